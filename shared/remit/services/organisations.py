"""Organisations: create, read, list, change, their logo; and who may reach them."""

from __future__ import annotations

from collections.abc import Callable

from remit.domain.changes import apply_changes, build
from remit.domain.errors import InvalidInput, NotFound
from remit.domain.ids import new_id
from remit.domain.logos import ASSETS_PATH, LOGO_KEY_PREFIX, LOGO_TYPES, UnusableLogo
from remit.domain.numbering import SERIES_WRITE_ATTEMPTS, NumberSeries
from remit.domain.organisation import (
    NewOrganisation,
    Organisation,
    OrganisationChanges,
    default_credit_note_prefix,
    default_number_prefix,
)
from remit.domain.pagination import Page
from remit.ports.clock import Clock
from remit.ports.documents import LogoImages, LogoStore
from remit.ports.organisations import OrganisationRepository
from remit.services.retry import retry_on_conflict


class OrganisationService:
    def __init__(
        self,
        organisations: OrganisationRepository,
        logos: LogoStore,
        images: LogoImages,
        clock: Clock,
        max_logo_bytes: int,
        reminders_changed: Callable[[str], None] = lambda organisation_id: None,
    ) -> None:
        # Called once a change of the reminders settings is committed: open invoices are rescheduled.
        self._reminders_changed = reminders_changed
        self._organisations = organisations
        self._logos = logos
        self._images = images
        self._clock = clock
        self._max_logo_bytes = max_logo_bytes
        # An organisation never changes owner, so a warm Lambda remembers who owns what.
        self._owners: dict[str, str] = {}

    def require_access(self, account_id: str, organisation_id: str) -> None:
        """Return if the account owns the organisation; raise `NotFound` otherwise (existence hidden)."""
        owner = self._owners.get(organisation_id)
        if owner is None:
            owner = self._organisations.owner_of(organisation_id)
            if owner is not None:
                self._owners[organisation_id] = owner
        if owner != account_id:
            raise NotFound("organisation", organisation_id)

    def create(self, account_id: str, new: NewOrganisation) -> Organisation:
        """Create an organisation in the account (atomic with its membership record)."""
        now = self._clock.now()
        fields = new.model_dump(exclude_unset=True, exclude_none=True)
        numbering = {"prefix": default_number_prefix(new.name), **fields.pop("invoice_numbering", {})}
        credit_notes = {
            "prefix": default_credit_note_prefix(numbering["prefix"]),
            **fields.pop("credit_note_numbering", {}),
        }
        organisation = build(
            Organisation,
            {
                **fields,
                "id": new_id("org", now),
                "account_id": account_id,
                "invoice_numbering": numbering,
                "credit_note_numbering": credit_notes,
                "created_at": now,
                "updated_at": now,
            },
        )
        self._organisations.add(organisation)
        self._owners[organisation.id] = account_id
        return organisation

    def get(self, account_id: str, organisation_id: str) -> Organisation:
        """The organisation; `NotFound` when it does not exist or belongs to another account."""
        return self.invoice_series(account_id, organisation_id)[0]

    def invoice_series(self, account_id: str, organisation_id: str) -> tuple[Organisation, NumberSeries]:
        """The organisation and its invoice number series (its next number and the last one used),
        in one read; `NotFound` when it does not exist or belongs to another account."""
        organisation, series = self._organisations.read(organisation_id)
        if organisation is None or series is None or organisation.account_id != account_id:
            raise NotFound("organisation", organisation_id)
        return organisation, series

    def list(self, account_id: str, limit: int, cursor: str | None) -> Page[Organisation]:
        """The account's organisations, oldest first."""
        return self._organisations.list_for_account(account_id, limit, cursor)

    def update(self, account_id: str, organisation_id: str, changes: OrganisationChanges) -> Organisation:
        """Apply a PATCH. Retries on concurrent changes; the numbering never goes back over used numbers
        (`NumberSeries.renumbered`), nor does the credit note numbering. A PATCH that leaves
        `invoice_numbering.next_number` alone does not write the invoice series, so it never meets a
        finalization (and `credit_note_numbering.next_number` the credit note series, likewise).

        A renumbering waits its turn behind a burst of finalizations as long as they wait for each
        other (`SERIES_WRITE_ATTEMPTS`). Raises `NotFound`, `InvalidInput` (naming the field), or
        `ConcurrentUpdate` after many retries.
        """

        def attempt() -> tuple[Organisation, bool]:
            current, series, notes = self._organisations.read_all_series(organisation_id)
            if current is None or series is None or notes is None or current.account_id != account_id:
                raise NotFound("organisation", organisation_id)
            # A PATCH of one field of the credit note numbering keeps the others, derived ones included.
            current = current.model_copy(update={"credit_note_numbering": current.credit_notes})
            updated = apply_changes(current, changes, updated_at=self._clock.now())
            renumbered = series.renumbered(updated.invoice_numbering.next_number)
            notes_renumbered = notes.renumbered(updated.credit_notes.next_number)
            saved = self._organisations.save(
                updated,
                series=_to_write(series, renumbered),
                credit_note_series=notes_renumbered if notes_renumbered != notes else None,
            )
            return saved, updated.reminders != current.reminders

        saved, reminders_changed = retry_on_conflict(attempt, attempts=SERIES_WRITE_ATTEMPTS)
        if reminders_changed:
            self._reminders_changed(organisation_id)
        return saved

    def upload_logo(
        self, account_id: str, organisation_id: str, content: bytes, content_type: str, public_base_url: str
    ) -> Organisation:
        """Make a PNG, JPEG or SVG upload the organisation's logo and point `branding.logo_url` at it.

        What is stored is pixels drawn from the upload (an SVG becomes a PNG), fitted into the logo
        box; the logo it replaces is no longer served, though documents issued with it keep it.
        Raises `InvalidInput` (field `body` or `Content-Type`) and changes nothing when the bytes
        are over the size limit, not an image of the declared type, larger than 4,000,000 pixels,
        or an SVG that cannot be drawn safely; `NotFound` for another account's organisation.
        """
        self.require_access(account_id, organisation_id)
        media_type = content_type.split(";")[0].strip().lower()
        if media_type not in LOGO_TYPES:
            raise InvalidInput.single("Content-Type", f"must be one of {', '.join(LOGO_TYPES)}")
        if len(content) > self._max_logo_bytes:
            raise InvalidInput.single("body", f"the logo is larger than {self._max_logo_bytes} bytes")
        try:
            prepared = self._images.prepare(content, media_type)
        except UnusableLogo as unusable:
            raise InvalidInput.single("body", unusable.detail) from None
        key = self._logos.put_logo(organisation_id, prepared)
        return self._set_logo_url(
            account_id, organisation_id, f"{public_base_url.rstrip('/')}{ASSETS_PATH}{key}"
        )

    def remove_logo(self, account_id: str, organisation_id: str) -> Organisation:
        """The organisation without a logo (`branding.logo_url` null; idempotent). The removed logo is no
        longer served; documents issued with it keep it. `NotFound` for another account's organisation.
        """
        self.require_access(account_id, organisation_id)
        return self._set_logo_url(account_id, organisation_id, None)

    def _set_logo_url(self, account_id: str, organisation_id: str, logo_url: str | None) -> Organisation:
        def attempt() -> Organisation:
            current, series = self.invoice_series(account_id, organisation_id)
            if current.branding.logo_url == logo_url:
                return current
            branding = current.branding.model_copy(update={"logo_url": logo_url})
            updated = current.model_copy(update={"branding": branding, "updated_at": self._clock.now()})
            return self._organisations.save(updated, series=_to_write(series, series))

        return retry_on_conflict(attempt)

    def current_logo(self, organisation_id: str, file_name: str) -> tuple[bytes, str]:
        """The organisation's current logo, by the file name in its public URL (public: emails and
        pages show it). `NotFound` for any other file, a replaced or removed logo among them.
        """
        organisation = self._organisations.get(organisation_id)
        key = f"{LOGO_KEY_PREFIX}{organisation_id}/{file_name}"
        found = self._logos.get_logo(key) if organisation and organisation.branding.logo_key == key else None
        if found is None:
            raise NotFound("logo", file_name)
        return found


def _to_write(as_read: NumberSeries, changed: NumberSeries) -> NumberSeries | None:
    """The series to write with an organisation: when it changed, or when it is still read through
    from the organisation's item (never stored), so that it is stored before that item is rewritten."""
    return changed if changed != as_read or as_read.version == 0 else None
