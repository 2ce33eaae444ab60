"""`make checkov`'s first step: template.yaml translated to the CloudFormation that AWS deploys.

The SAM translator (aws-sam-translator, installed with the SAM CLI) expands the `AWS::Serverless::*`
resources offline, as `sam validate` does: no AWS call, no credentials. The local `CodeUri` and
`ContentUri` paths become placeholder S3 locations (the translator takes nothing else), and the
resources' `Metadata` passes through to what each becomes, so that a check skipped on a function in
template.yaml (`Metadata: checkov: skip: …`) is skipped on its Lambda function too.

    python -m tools.cloudformation_template OUTPUT.json
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

TEMPLATE = Path(__file__).resolve().parents[1] / "template.yaml"
REGION = "eu-west-1"
# Stand-ins for the stack parameters without a default; nothing checked depends on them.
PARAMETERS = {"MailFrom": "invoices@billing.example.com", "SesIdentity": "billing.example.com"}
_PLACEHOLDER_CODE = "s3://remit-checkov-placeholder/code.zip"


def translated(template_path: Path = TEMPLATE) -> dict[str, Any]:
    """The CloudFormation template SAM would deploy for `template_path`."""
    from boto3.session import Session
    from samcli.yamlhelper import yaml_parse
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    logging.getLogger("samtranslator").setLevel(logging.ERROR)  # notes on its own feature toggles
    template: dict[str, Any] = yaml_parse(template_path.read_text())
    for resource in template.get("Resources", {}).values():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str) and not properties[key].startswith("s3://"):
                properties[key] = _PLACEHOLDER_CODE
    translator = Translator(
        managed_policy_map=None, sam_parser=Parser(), plugins=[], boto_session=Session(region_name=REGION)
    )
    result: dict[str, Any] = translator.translate(
        sam_template=template,
        parameter_values=dict(PARAMETERS),
        passthrough_metadata=True,
        # Remit names no managed policy by name, so the translator never needs IAM's list of them.
        get_managed_policy_map=dict,
    )
    return result


def main(arguments: list[str]) -> int:
    if len(arguments) != 1:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    output = Path(arguments[0])
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(translated(), indent=1, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
