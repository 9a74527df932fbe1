"""Contract: `open_store` URLs, the interface and the error tree (every backend)."""

from __future__ import annotations

from pathlib import Path

import pytest

from csms.store import (
    Conflict,
    InsufficientFundsError,
    NotFound,
    NotFoundError,
    ReservationIdTaken,
    SchemaVersionError,
    Store,
    StoreError,
    StoreUnavailable,
    UnsupportedStore,
    open_store,
)
from csms.store.opening import sqlite_path
from tests.csms.store_contract.backends import Backend


def test_implements_the_interface(store: Store) -> None:
    """Every backend satisfies the Store protocol that handlers are written against."""
    assert isinstance(store, Store)


def test_reopened_store_sees_committed_data(store: Store, backend: Backend) -> None:
    store.upsert_id_tag("A")
    store.close()
    with backend.open() as again:
        assert again.get_id_tag("A") is not None


def test_error_tree() -> None:
    """Callers catch these, whatever the backend."""
    for error in (NotFound, Conflict, InsufficientFundsError, SchemaVersionError,
                  StoreUnavailable, UnsupportedStore):  # fmt: skip
        assert issubclass(error, StoreError)
    assert issubclass(ReservationIdTaken, Conflict) and NotFoundError is NotFound
    assert issubclass(NotFound, LookupError)


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("csms.db", "csms.db"),
        ("/var/lib/cb/csms.db", "/var/lib/cb/csms.db"),
        ("sqlite:///csms.db", "csms.db"),
        ("sqlite:////var/lib/cb/csms.db", "/var/lib/cb/csms.db"),
        ("SQLITE:///csms.db", "csms.db"),
        ("sqlite://", ":memory:"),
        ("postgresql://u@h/db", None),
    ],
)
def test_sqlite_urls(url: str, path: str | None) -> None:
    assert sqlite_path(url) == path


def test_a_path_or_a_url_opens_the_same_file(tmp_path: Path) -> None:
    with open_store(tmp_path / "a.db") as store:
        store.upsert_id_tag("A")
    with open_store(f"sqlite:///{tmp_path / 'a.db'}") as store:
        assert store.get_id_tag("A") is not None


@pytest.mark.parametrize(
    "url", ["postgresql://bench:hunter2@127.0.0.1:{port}/cb", "postgres://bench:hunter2@db.invalid/cb"]
)
def test_postgresql_server_down(url: str) -> None:
    """No server there: `StoreUnavailable` that names PostgreSQL and never repeats the password."""
    from tests.pgserver import free_port

    with pytest.raises(StoreUnavailable) as caught:
        open_store(url.format(port=free_port()))
    assert "PostgreSQL" in str(caught.value) and "hunter2" not in str(caught.value)


def test_unknown_scheme_and_sqlite_host_refused() -> None:
    with pytest.raises(UnsupportedStore, match="mysql://"):
        open_store("mysql://u:pw@h/db")
    with pytest.raises(UnsupportedStore):
        open_store("sqlite://host/csms.db")


@pytest.mark.parametrize(
    ("db", "says"),
    [
        ("postgresql://bench:hunter2@127.0.0.1:{port}/cb", "cannot connect to PostgreSQL"),
        # malformed: libpq quotes the URL, or the bad part of it, in its message
        ("postgresql://bench:hunter2@[::1/cb", "not a PostgreSQL URL"),
        ("postgresql://bench:hunter2%zz@127.0.0.1/cb", "not a PostgreSQL URL"),
        ("postgresql://bench:hunter2@127.0.0.1/cb?sslmod=require", "not a PostgreSQL URL"),
        ("postgresql://bench:hunter2@127.0.0.1:notaport/cb", "invalid integer value"),
        ("postgresql+asyncpg://bench:hunter2@db.invalid/cb", "cannot connect to PostgreSQL"),
        ("sqlite://host/csms.db", "no host"),
        ("mysql://bench:hunter2@db/cb", "no store backend"),
        ("{tmp}/no-such-folder/csms.db", "no folder"),
    ],
)
def test_csms_command_refuses_a_bad_db_in_one_line(
    tmp_path: Path, db: str, says: str, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`chargebench csms --db ...`: one line on stderr, exit 2, and no password repeated."""
    from chargebench.cli import main

    monkeypatch.chdir(tmp_path)
    from tests.pgserver import free_port

    db = db.format(tmp=tmp_path, port=free_port())
    assert main(["csms", "--port", "0", "--db", db]) == 2
    err = capsys.readouterr().err
    assert says in err and "hunter2" not in err and len(err.strip().splitlines()) == 1
