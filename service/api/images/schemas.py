from __future__ import annotations

from marshmallow import Schema, fields

from service.api.schemas import Pattern


class ImageArgs(Schema):
    v = fields.String(
        validate=Pattern(r"^[0-9a-f]{1,64}$"),
        metadata={"description": "The image's version, as `image_url` gives it: the answer may be cached for good"},
    )
