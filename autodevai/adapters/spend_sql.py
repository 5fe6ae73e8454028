"""Budget holds and spending in SQLite, shared by every process on one database (schema v6).

What a process spent is what its committed request rows cost (``spend_by_day``, kept by a trigger) plus holds
settled in place (answered, but the row could not be written: ``expires`` NULL); what it holds is its open
reservations. ``reserve`` reads both and adds a hold in ONE write transaction (the writer runs it under
``BEGIN IMMEDIATE``, so reservations of all processes are serialized by SQLite's write lock and each sees every
commit before it). Holds expire (``expires``, wall clock) so a process that crashed cannot keep money held; at
open, holds of processes on this machine that are no longer running are dropped at once. Amounts are integer
nano-dollars, as in ``engine/budget.py``.

Runs on the store's writer thread: plain functions of a connection.
"""

from __future__ import annotations

import os
import socket
import sqlite3
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from autodevai.engine.budget import to_nano
from autodevai.engine.ports import SpendHold, SpendTotals

__all__ = ["new_owner", "purge_dead_owners", "release", "reserve", "settle_in_place", "totals"]

_DAY_S = 86_400
_INSERT = "INSERT INTO reservations (id, owner, amount_nano, created, expires, day) VALUES (?, ?, ?, ?, ?, ?)"


def new_owner() -> str:
    """The owner name of one store instance: "host:pid:nonce" (the pid lets a later process see it is gone)."""
    return f"{socket.gethostname()}:{os.getpid()}:{os.urandom(4).hex()}"


def _month_start_day(day: int) -> int:
    d = datetime.fromtimestamp(day * _DAY_S, tz=UTC)
    return int(d.replace(day=1).timestamp() // _DAY_S)


def totals(conn: sqlite3.Connection, now_wall: float, owner: str) -> SpendTotals:
    """Spent today, this month, in all, and held (by everyone and by ``owner``) at ``now_wall``."""
    day = int(now_wall // _DAY_S)
    month_start = _month_start_day(day)
    today = month = total = 0
    rows: Iterable[tuple[int, int]] = conn.execute("SELECT day, nano FROM spend_by_day").fetchall()
    settled = conn.execute("SELECT day, amount_nano FROM reservations WHERE expires IS NULL").fetchall()
    for d, nano in (*rows, *settled):
        total += nano
        if d >= month_start:
            month += nano
            if d == day:
                today += nano
    held = held_here = 0
    for amount, who in conn.execute(
        "SELECT amount_nano, owner FROM reservations WHERE expires IS NOT NULL AND expires > ?", (now_wall,)
    ):
        held += amount
        if who == owner:
            held_here += amount
    return SpendTotals(today, month, total, held, held_here)


def reserve(conn: sqlite3.Connection, hold: SpendHold, owner: str, check: Callable[[SpendTotals], None]) -> SpendTotals:
    """Drop expired holds, count, ``check`` (raises to refuse: nothing is written then), add ``hold``."""
    conn.execute("DELETE FROM reservations WHERE expires IS NOT NULL AND expires <= ?", (hold.wall,))
    counted = totals(conn, hold.wall, owner)
    check(counted)
    conn.execute(
        _INSERT,
        (hold.id, owner, to_nano(hold.amount_usd), hold.wall, hold.expires_wall, int(hold.wall // _DAY_S)),
    )
    return counted


def release(conn: sqlite3.Connection, hold_ids: Iterable[str]) -> None:
    """Drop holds (settled by a request row, or spent nothing); unknown ids are ignored."""
    conn.executemany("DELETE FROM reservations WHERE id = ?", [(h,) for h in hold_ids])


def settle_in_place(conn: sqlite3.Connection, hold_ids: tuple[str, ...], cost_usd: float, wall: float) -> None:
    """A request was answered but its row cannot be written (the disk is full): turn its first hold into spending
    of ``cost_usd`` that never expires, drop the others. Changes existing rows only, so it needs no new page."""
    if not hold_ids:
        return
    conn.execute(
        "UPDATE reservations SET amount_nano = ?, expires = NULL, day = ? WHERE id = ?",
        (to_nano(max(0.0, cost_usd)), int(wall // _DAY_S), hold_ids[0]),
    )
    release(conn, hold_ids[1:])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except OSError:  # it exists but belongs to someone else, or we cannot tell
        return True
    return True


def purge_dead_owners(conn: sqlite3.Connection) -> None:
    """Drop open holds of processes on this machine that are no longer running (POSIX only: elsewhere holds
    simply expire). Call inside a write transaction."""
    if os.name != "posix":  # os.kill(pid, 0) would terminate the process on Windows
        return
    host = socket.gethostname()
    owners = [r[0] for r in conn.execute("SELECT DISTINCT owner FROM reservations WHERE expires IS NOT NULL")]
    for owner in owners:
        who, _, _nonce = owner.rpartition(":")  # host:pid:nonce -> ("host:pid", nonce)
        who_host, _, pid = who.rpartition(":")
        if who_host == host and pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            conn.execute("DELETE FROM reservations WHERE owner = ? AND expires IS NOT NULL", (owner,))
