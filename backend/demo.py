"""The demo person and a one-time sign-in link for them (`oo demo`, `oo up`)."""

from __future__ import annotations

from backend.identity.service import DEMO_EMAIL, create_sign_in_link, get_or_create_user
from backend.integrations.demo import ensure_demo_tasks


async def demo_sign_in_link() -> str:
    """Seed the demo person (with synthetic tasks, the first time) and return a sign-in link."""
    user_id = await get_or_create_user(DEMO_EMAIL, "Demo", is_demo=True)
    await ensure_demo_tasks(user_id)
    return await create_sign_in_link(user_id)
