"""The one definition of the attachments bucket's layout, shared by the code, the local runtime
and the CDK stack (lifecycle rules and IAM are scoped to these prefixes).

Object keys are ``<prefix><attachment id>``: random, never derived from user input.
"""

from __future__ import annotations

# Declared and uploaded, not (yet) part of a message. Expired by a lifecycle rule.
UPLOAD_PREFIX = "uploads/"
# Part of a message: kept as long as the message exists.
STORED_PREFIX = "attachments/"
# Objects under UPLOAD_PREFIX live this long; an attachment record's TTL is shorter (see
# settings.attachment_ttl_hours), so the record always expires before its upload does.
UPLOAD_EXPIRY_DAYS = 2
# The bucket is versioned (a message copies the checked version of an upload). Concurrent sends of
# one attachment each copy that same version to STORED_PREFIX; the copies other than the current one
# (identical bytes) are deleted this long after they stop being current.
STORED_DUPLICATE_EXPIRY_DAYS = 1
