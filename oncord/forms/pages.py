"""Website page forms: new page, the editor's page settings, each block's settings, online bookings."""

from __future__ import annotations

from typing import Any, ClassVar

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError
from wtforms.widgets import HiddenInput

from oncord.bookings.blocks import (
    HEADING_LEVELS,
    LINK_KINDS,
    MAX_HEADING,
    MAX_LABEL,
    MAX_LINK,
    MAX_TEXT,
    Block,
    ButtonBlock,
    EmbedBlock,
    HeadingBlock,
    TextBlock,
    check_block_id,
    check_link,
    clean_text,
)
from oncord.bookings.embed import MAX_CODE_LENGTH, BookingEmbed, read_embed_code
from oncord.bookings.pages import MAX_SLUG, MAX_TITLE, check_slug
from oncord.bookings.urls import Account, BookingsUrl, BookingsValidationError, parse_bookings_url
from oncord.clinic_profile import (
    MAX_ADDRESS,
    MAX_PHONE,
    MAX_PRIVACY_URL,
    MAX_REVIEW_URL,
    InvalidClinicDetail,
    Logo,
    check_address,
    check_phone,
    check_privacy_url,
    check_review_url,
    read_logo,
)
from oncord.forms import choices
from oncord.messaging.design import DEFAULT_BRAND_COLOUR, InvalidBrandColour, check_brand_colour


def _domain_check(check: Any) -> Any:
    """Run a domain validator; its message becomes the field's error."""
    try:
        return check()
    except BookingsValidationError as exc:
        raise ValidationError(str(exc)) from exc


class _SlugChecked(FlaskForm):
    slug: Any

    def __init__(self, *args: Any, reserved: frozenset[str] = frozenset(), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reserved = reserved

    def validate_slug(self, field: Any) -> None:
        """A valid address that Oncord's own screens do not use."""
        if field.data:
            field.data = _domain_check(lambda: check_slug(field.data, self.reserved))


class NewPageForm(_SlugChecked):
    """A page's title and, optionally, its address (made from the title when left empty)."""

    title = StringField("Title", validators=[InputRequired("Give the page a title."), Length(max=MAX_TITLE)])
    slug = StringField("Address", validators=[Optional(), Length(max=MAX_SLUG)],
                       render_kw={"spellcheck": "false", "autocomplete": "off", "placeholder": "book-now"})


class PageForm(_SlugChecked):
    """The page settings saved with the blocks: title, address, published, and the loaded revision."""

    title = StringField("Title", validators=[InputRequired("Give the page a title."), Length(max=MAX_TITLE)])
    slug = StringField("Address",
                       validators=[InputRequired("Enter the page's address."), Length(max=MAX_SLUG)],
                       render_kw={"spellcheck": "false", "autocomplete": "off"})
    published = BooleanField("Published (anyone with the address can see it)")
    revision = IntegerField(widget=HiddenInput(), validators=[Optional()])


class BlockSettingsForm(FlaskForm):
    """The sidebar form of one block; `block()` builds the validated block after validate()."""

    kind: ClassVar[str]
    block_id = HiddenField()
    # What Apply tells staff beyond "applied", e.g. what was kept of pasted embed code.
    applied_note: str | None = None

    def __init__(self, *args: Any, allowed_accounts: frozenset[Account] | None = None,
                 bookings: BookingsUrl | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.allowed_accounts = allowed_accounts
        self.bookings = bookings

    def validate_block_id(self, field: Any) -> None:
        """An id the editor made."""
        _domain_check(lambda: check_block_id(field.data))

    def block(self) -> Block:
        """The block these settings describe."""
        raise NotImplementedError

    def _block_id(self) -> str:
        """The id, after validate() has checked it (so always a string here)."""
        return self.block_id.data or ""


class HeadingSettingsForm(BlockSettingsForm):
    """A heading's text and size."""

    kind = "heading"
    text = StringField("Heading", validators=[Length(max=MAX_HEADING)])
    level = SelectField("Size", default="2",
                        choices=choices((str(level), label) for level, label in HEADING_LEVELS.items()))

    def validate_text(self, field: Any) -> None:
        """Not empty."""
        field.data = _domain_check(lambda: clean_text(field.data, label="The heading", limit=MAX_HEADING))

    def block(self) -> Block:
        """The heading block."""
        return HeadingBlock(id=self._block_id(), text=self.text.data or "", level=int(self.level.data))


class TextSettingsForm(BlockSettingsForm):
    """A paragraph or more of plain text."""

    kind = "text"
    text = TextAreaField("Text", validators=[Length(max=MAX_TEXT)], render_kw={"rows": 8})

    def validate_text(self, field: Any) -> None:
        """Not empty, plain text."""
        field.data = _domain_check(lambda: clean_text(field.data, label="The text", limit=MAX_TEXT,
                                                      multiline=True))

    def block(self) -> Block:
        """The text block."""
        return TextBlock(id=self._block_id(), text=self.text.data or "")


class ButtonSettingsForm(BlockSettingsForm):
    """A button's text and where it goes."""

    kind = "button"
    label = StringField("Button text", validators=[Length(max=MAX_LABEL)])
    link = RadioField("Opens", choices=choices(LINK_KINDS.items()), default="bookings")
    url = StringField("Address", validators=[Length(max=MAX_LINK)],
                      render_kw={"spellcheck": "false", "placeholder": "https://… or /a-page"})

    def validate_label(self, field: Any) -> None:
        """Not empty."""
        field.data = _domain_check(lambda: clean_text(field.data, label="The button text", limit=MAX_LABEL))

    def validate_link(self, field: Any) -> None:
        """A bookings button needs the clinic's bookings address to be set."""
        if field.data == "bookings" and self.bookings is None:
            raise ValidationError("Your clinic's online bookings address is not set yet, so this button "
                                  "would go nowhere. Ask an admin to set it in Settings → Online bookings, "
                                  "or choose “Another address”.")

    def validate_url(self, field: Any) -> None:
        """An allowed link when the button goes somewhere else."""
        if self.link.data == "url":
            field.data = _domain_check(lambda: check_link(field.data))

    def block(self) -> Block:
        """The button block."""
        if self.link.data == "bookings":
            return ButtonBlock(id=self._block_id(), label=self.label.data or "", link="bookings")
        return ButtonBlock(id=self._block_id(), label=self.label.data or "", link="url", url=self.url.data)


class EmbedSettingsForm(BlockSettingsForm):
    """Cliniko's embed code, pasted in whatever form; reduced to the one canonical booking widget."""

    kind = "embed"
    code = TextAreaField("Cliniko's embed code", render_kw={"rows": 10, "spellcheck": "false",
                                                            "autocomplete": "off"})
    embed: BookingEmbed | None = None

    def validate_code(self, field: Any) -> None:
        """Cliniko's booking iframe, on an allowed bookings host, somewhere in the paste."""
        if len(field.data or "") > MAX_CODE_LENGTH * 2:
            raise ValidationError("That is far longer than Cliniko's embed code.")
        accounts = self.allowed_accounts
        reading = _domain_check(lambda: read_embed_code(field.data, allowed_accounts=accounts))
        self.embed, self.applied_note = reading.embed, reading.kept

    def block(self) -> Block:
        """The booking widget block."""
        return EmbedBlock(id=self._block_id(), embed=self.embed)


SETTINGS_FORMS: dict[str, type[BlockSettingsForm]] = {
    form.kind: form for form in (HeadingSettingsForm, TextSettingsForm, ButtonSettingsForm, EmbedSettingsForm)
}


def settings_form_for(block: Block, **options: Any) -> BlockSettingsForm:
    """The sidebar form filled with a block's current values."""
    form_class = SETTINGS_FORMS[block.type]
    values: dict[str, Any] = {"block_id": block.id}
    if isinstance(block, HeadingBlock):
        values.update(text=block.text, level=str(block.level))
    elif isinstance(block, TextBlock):
        values.update(text=block.text)
    elif isinstance(block, ButtonBlock):
        values.update(label=block.label, link=block.link, url=block.url or "")
    elif isinstance(block, EmbedBlock):
        values.update(code=block.embed.canonical_code() if block.embed else "")
    form = form_class(formdata=None, data=values, **options)
    if isinstance(block, EmbedBlock):
        form.embed = block.embed
    return form


def _detail_check(check: Any) -> Any:
    """Run a clinic-detail validator; its message becomes the field's error."""
    try:
        return check()
    except InvalidClinicDetail as exc:
        raise ValidationError(str(exc)) from exc


class OnlineBookingsForm(FlaskForm):
    """The clinic as public pages show it (name, contact details, logo) and its Cliniko bookings address."""

    clinic_name = StringField("Clinic name", validators=[Optional(), Length(max=200)])
    bookings_url = StringField(
        "Cliniko online bookings address",
        validators=[Optional(), Length(max=2000)],
        render_kw={"spellcheck": "false", "autocomplete": "off",
                   "placeholder": "https://your-clinic.au1.cliniko.com/bookings"},
    )
    address = TextAreaField("Street address", validators=[Optional(), Length(max=MAX_ADDRESS * 2)],
                            render_kw={"rows": 3, "autocomplete": "street-address"})
    phone = StringField("Phone", validators=[Optional(), Length(max=MAX_PHONE)],
                        render_kw={"autocomplete": "tel", "inputmode": "tel"})
    privacy_url = StringField("Privacy policy", validators=[Optional(), Length(max=MAX_PRIVACY_URL)],
                              render_kw={"spellcheck": "false", "autocomplete": "off",
                                         "placeholder": "https://www.your-clinic.com.au/privacy"})
    review_url = StringField("Google review link", validators=[Optional(), Length(max=MAX_REVIEW_URL * 2)],
                             render_kw={"spellcheck": "false", "autocomplete": "off",
                                        "placeholder": "https://g.page/r/your-clinic/review"})
    logo = FileField("Logo", render_kw={"accept": "image/png,image/jpeg,image/webp"})
    remove_logo = BooleanField("Remove the logo")
    brand_colour = StringField("Brand colour for e-mails", validators=[Optional(), Length(max=20)],
                               render_kw={"spellcheck": "false", "autocomplete": "off",
                                          "placeholder": DEFAULT_BRAND_COLOUR})
    parsed_url: BookingsUrl | None = None
    new_logo: Logo | None = None

    def __init__(self, *args: Any, region: str = "AU", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.region = region

    def validate_address(self, field: Any) -> None:
        """A few lines of plain text."""
        field.data = _detail_check(lambda: check_address(field.data))

    def validate_phone(self, field: Any) -> None:
        """A number patients can dial."""
        field.data = _detail_check(lambda: check_phone(field.data, self.region))

    def validate_privacy_url(self, field: Any) -> None:
        """An https page or one of the clinic's pages."""
        field.data = _detail_check(lambda: check_privacy_url(field.data))

    def validate_review_url(self, field: Any) -> None:
        """An https page where patients leave a review."""
        field.data = _detail_check(lambda: check_review_url(field.data))

    def validate_logo(self, field: Any) -> None:
        """A PNG, JPEG or WebP image within the size limit (checked by decoding it)."""
        upload = field.data
        if isinstance(upload, FileStorage) and upload.filename:
            try:
                data = upload.stream.read()  # at most the app's MAX_CONTENT_LENGTH; read_logo sizes it
            finally:
                upload.close()  # a big upload is spooled to a temporary file: release it now
            self.new_logo = _detail_check(lambda: read_logo(data))

    def validate_brand_colour(self, field: Any) -> None:
        """A #rrggbb colour, or empty for the default."""
        try:
            field.data = check_brand_colour(field.data)
        except InvalidBrandColour as exc:
            raise ValidationError(str(exc)) from exc

    def validate_bookings_url(self, field: Any) -> None:
        """An https address on a Cliniko bookings host."""
        if field.data and field.data.strip():
            self.parsed_url = _domain_check(lambda: parse_bookings_url(field.data))
            field.data = self.parsed_url.link_url

