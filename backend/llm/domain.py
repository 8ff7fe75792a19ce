"""The llm domain: tip candidates written ahead of time by workers (DESIGN.md §3, §7)."""

from datetime import datetime

from backend.contracts.candidate import Candidate
from backend.contracts.embedding import register_embedder
from backend.contracts.sources import register_candidates
from backend.domain import Domain
from backend.events.contracts import AgentComputed, ProfileChanged
from backend.events.handlers import subscribe, subscribe_batch
from backend.llm.eligibility import on_agents_computed, on_profile_changed
from backend.llm.embedding import embed_through_gateway
from backend.llm.graphql import LlmAdminMutation, LlmAdminQuery
from backend.llm.jobs import CRON_JOBS, JOBS
from backend.llm.service import llm_candidates


async def written_tips(user_id: str, now: datetime) -> list[Candidate]:
    """The person's pre-written tips that may be served now (one indexed read)."""
    return await llm_candidates(user_id, now)


def install() -> None:
    """Written tips for the recommender; the embedder for the agents; re-check tips when
    consents or contexts change; rewrite them when an agent's notes change."""
    register_candidates("written", written_tips)
    register_embedder(embed_through_gateway)
    subscribe(ProfileChanged, on_profile_changed)
    subscribe_batch(AgentComputed, on_agents_computed)


DOMAIN = Domain(
    name="llm",
    piccolo_app="backend.llm.piccolo_app",
    queries=(LlmAdminQuery,),
    mutations=(LlmAdminMutation,),
    jobs=tuple(JOBS),
    cron_jobs=tuple(CRON_JOBS),
    install=install,
)
