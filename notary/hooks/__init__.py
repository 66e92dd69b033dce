"""Webhooks: an organization is told when its evidence is anchored, re-anchored, pinned or
could not be pinned, instead of polling.

- events.py: the event types and `enqueue`, which adds outbox rows inside the caller's
  transaction, the one that records the state change (so a committed change always has
  its messages, even across kill -9);
- signing.py: secrets and signatures in the Standard Webhooks style (`webhook-id`,
  `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`);
- endpoints.py: registering, listing and deleting endpoints, listing deliveries;
- delivery.py: the loop (in the anchoring process) that sends due messages, records each
  attempt and retries with exponential backoff and full jitter until a give-up period.

Delivery is at least once: a message is marked delivered only after a 2xx answer, so a
crash between sending and recording sends it again; receivers recognise a repeat by its
`webhook-id`.
"""

from notary.hooks.events import EVENT_TYPES, backlog, enqueue

__all__ = ["EVENT_TYPES", "backlog", "enqueue"]
