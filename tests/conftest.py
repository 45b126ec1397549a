"""Fixtures for the cross-service tests: the real stack, one namespace per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.stack import Deployment, Infra, infrastructure


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    with infrastructure() as running:
        yield running


@pytest.fixture
def deployment(infra: Infra) -> Iterator[Deployment]:
    deployed = Deployment(infra)
    try:
        yield deployed
    finally:
        deployed.teardown()
