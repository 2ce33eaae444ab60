"""Draws one SVG into a PNG with resvg, in a process of its own, under limits of time and memory.

    python -I -S svg_drawing.py <seconds> <megabytes> <resvg's directory> <width> <height> <font>...

The SVG comes on stdin (UTF-8), the PNG goes to stdout, fitted into `width` x `height` with its
aspect kept. Exit status 2, with resvg's reason on stderr, when resvg refuses the SVG; the
operating system ends the process when it uses more CPU time or memory than allowed.

It runs apart (`remit.adapters.images` starts it) because the time an SVG takes to draw is not
bounded by its size: a few hundred bytes of nested filters take a minute. No import of Remit, no
site packages: the process starts in tens of milliseconds.
"""

from __future__ import annotations

import resource
import sys

FAMILY = "DejaVu Sans"


def main(arguments: list[str]) -> int:
    seconds, megabytes, search_path, width, height, *fonts = arguments
    resource.setrlimit(resource.RLIMIT_CPU, (int(seconds), int(seconds)))
    memory = int(megabytes) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    sys.path.insert(0, search_path)
    import resvg_py

    svg = sys.stdin.buffer.read().decode("utf-8")
    try:
        png = resvg_py.svg_to_bytes(
            svg_string=svg,
            width=int(width),
            height=int(height),
            # Text is drawn in the PDF's own font, whatever family it names: no system font is read.
            skip_system_fonts=True,
            font_files=fonts,
            font_family=FAMILY,
            serif_family=FAMILY,
            sans_serif_family=FAMILY,
            cursive_family=FAMILY,
            fantasy_family=FAMILY,
            monospace_family=FAMILY,
        )
    except ValueError as refused:
        sys.stderr.write(str(refused)[:300])
        return 2
    sys.stdout.buffer.write(png)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
