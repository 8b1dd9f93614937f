"""The operator's brand: the site's name, its logo and its accent colour, on every page and email.

The accent reaches the stylesheet through /brand.css, a few custom properties generated from
ACCENT_COLOR: the Content-Security-Policy allows styles from this site only (no inline styles,
no nonces), and a stylesheet of our own origin needs no exception. The colour is adjusted until
links and buttons keep a 4.5:1 contrast in both colour schemes, whatever the operator chose.
"""

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, current_app, send_file, url_for

brand = Blueprint("brand", __name__)

HEX_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")
# Looked for in the instance folder, in this order, when LOGO_URL is empty.
LOGO_FILES = ("logo.svg", "logo.png", "logo.webp", "logo.jpg", "logo.jpeg", "logo.gif")
LOGO_TYPES = {
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".webp": "image/webp",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
}
# The page backgrounds of portal.css that the accent must stand out from, per scheme.
LIGHT_BACKGROUNDS = ("#ffffff", "#f4f6f8", "#e9f0fb")
DARK_BACKGROUNDS = ("#121417", "#1b1f24", "#1a2a40")
LIGHT_ON_ACCENT = "#ffffff"
DARK_ON_ACCENT = "#0d1117"
MIN_CONTRAST = 4.5
# A logo served from the instance folder is an image, never a document that runs anything.
LOGO_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


class BrandError(ValueError):
    """A brand setting the portal cannot use; the message says which and why."""


@dataclass(frozen=True)
class Brand:
    site_name: str
    logo_url: str
    logo_file: Path | None
    accent: str

    @classmethod
    def from_config(cls, config: dict, instance_path: str) -> "Brand":
        """The brand settings, checked; raises BrandError."""
        name = " ".join(str(config.get("SITE_NAME") or "").split()) or "Support portal"
        accent = str(config.get("ACCENT_COLOR") or "").strip()
        if accent and not HEX_COLOUR.fullmatch(accent):
            raise BrandError(
                f"ACCENT_COLOR {accent!r} is not a colour: write it as #rrggbb, e.g. #0b57a4"
            )
        logo_url = str(config.get("LOGO_URL") or "").strip()
        if logo_url and not _same_site(logo_url, str(config.get("BASE_URL", ""))):
            raise BrandError(
                f"LOGO_URL {logo_url!r} is on another site, which the Content-Security-Policy "
                "refuses: put the file in the instance folder as logo.svg or logo.png, or give "
                "a path on this site such as /static/logo.png"
            )
        logo_file = None
        if not logo_url:
            folder = Path(instance_path)
            logo_file = next((folder / n for n in LOGO_FILES if (folder / n).is_file()), None)
        return cls(name, logo_url, logo_file, accent.lower())


def _same_site(url: str, base_url: str) -> bool:
    parts = urlsplit(url)
    if not parts.scheme and not parts.netloc:
        return url.startswith("/") and not url.startswith("//")
    base = urlsplit(base_url)
    return (parts.scheme, parts.netloc) == (base.scheme, base.netloc)


def register_branding(app: Flask) -> None:
    try:
        app.extensions["portal_brand"] = Brand.from_config(app.config, app.instance_path)
    except BrandError as error:
        raise RuntimeError(str(error)) from None
    app.register_blueprint(brand)
    app.context_processor(brand_context)


def current_brand() -> Brand:
    return current_app.extensions["portal_brand"]


def brand_context() -> dict:
    """What base.html shows: the name, the logo and the accent's stylesheet."""
    found = current_brand()
    logo = found.logo_url or (url_for("brand.logo") if found.logo_file else "")
    stylesheet = ""
    if found.accent:
        stylesheet = url_for("brand.stylesheet", v=_version(found.accent))
    return {"site_name": found.site_name, "logo_src": logo, "brand_stylesheet": stylesheet}


def _version(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:10]


@brand.get("/brand.css")
def stylesheet():
    response = Response(accent_css(current_brand().accent), mimetype="text/css")
    # The link carries a version made from the colour, so a changed colour is a new address.
    response.headers["Cache-Control"] = "public, max-age=604800"
    return response


@brand.get("/brand/logo")
def logo():
    found = current_brand().logo_file
    if found is None:
        return Response("No logo", status=404, mimetype="text/plain")
    response = send_file(found, mimetype=LOGO_TYPES[found.suffix.lower()], max_age=3600)
    response.headers["Content-Security-Policy"] = LOGO_POLICY
    return response


@brand.get("/favicon.ico")
def favicon():
    static = Path(current_app.static_folder or "static")
    return send_file(static / "favicon.svg", mimetype="image/svg+xml", max_age=86400)


def accent_css(accent: str) -> str:
    """Custom properties that restyle portal.css's accent, for both colour schemes."""
    if not accent:
        return "/* No ACCENT_COLOR: portal.css's own accent. */\n"
    rgb = _rgb(accent)
    light = _with_contrast(rgb, LIGHT_BACKGROUNDS, toward=(0, 0, 0))
    dark = _with_contrast(rgb, DARK_BACKGROUNDS, toward=(255, 255, 255))
    return (
        f"/* Made from ACCENT_COLOR {accent}; see portal/branding.py. */\n"
        ":root {\n"
        f"  --accent: {_hex(light)};\n"
        f"  --accent-strong: {_hex(_mix(light, (0, 0, 0), 0.25))};\n"
        f"  --on-accent: {LIGHT_ON_ACCENT};\n"
        "}\n"
        "@media (prefers-color-scheme: dark) {\n"
        "  :root {\n"
        f"    --accent: {_hex(dark)};\n"
        f"    --accent-strong: {_hex(_mix(dark, (255, 255, 255), 0.3))};\n"
        f"    --on-accent: {DARK_ON_ACCENT};\n"
        "  }\n"
        "}\n"
    )


RGB = tuple[int, int, int]


def _rgb(colour: str) -> RGB:
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16))


def _hex(rgb: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _mix(rgb: RGB, toward: RGB, share: float) -> RGB:
    r, g, b = (round(c + (t - c) * share) for c, t in zip(rgb, toward, strict=True))
    return (r, g, b)


def _luminance(rgb: RGB) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: RGB, other: RGB) -> float:
    """WCAG's contrast ratio of two colours."""
    high, low = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _with_contrast(rgb: RGB, backgrounds: tuple[str, ...], *, toward: RGB) -> RGB:
    """The colour moved toward black (or white) until it reads on every background."""
    grounds = [_rgb(b) for b in backgrounds]
    for step in range(21):
        candidate = _mix(rgb, toward, step / 20)
        if all(contrast(candidate, ground) >= MIN_CONTRAST for ground in grounds):
            return candidate
    return toward
