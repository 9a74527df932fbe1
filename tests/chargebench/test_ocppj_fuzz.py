"""The frame fuzzer itself: deterministic per seed, every class, and a reply checker that
catches what issue 15 saw (InternalError with exception text, wrong ids, answers to replies)."""

from __future__ import annotations

from chargebench.ocppj import OcppSession, Role
from chargebench.ocppj.fuzz import KINDS, FuzzCase, check_reply, fuzz_frames


def test_same_seed_same_frames_and_every_kind():
    first = list(fuzz_frames(seed=3, count=200))
    assert first == list(fuzz_frames(seed=3, count=200))
    assert first != list(fuzz_frames(seed=4, count=200))
    assert {case.kind for case in first} == set(KINDS)


def test_check_reply_catches_what_issue_15_saw():
    call = FuzzCase(0, "valid", '[2,"a","Heartbeat",{}]', "a")
    assert check_reply(call, '[3,"a",{}]') == []
    leaky = '[4,"a","InternalError","OverflowError: Python int too large",{}]'
    assert len(check_reply(call, leaky)) == 2  # InternalError, and the leaked text
    assert check_reply(call, None) == ["no reply"]
    assert check_reply(call, '[3,"b",{}]') != []
    reply = FuzzCase(1, "unknown_reply", '[3,"never",{}]', None)
    assert check_reply(reply, '[4,"-1","FormationViolation","",{}]') != []
    assert check_reply(reply, None) == []


def test_the_session_core_answers_every_case_as_the_fuzzer_expects():
    """The sans-I/O core alone (no CSMS handlers): each case's reply is what OCPP-J owes."""
    core = OcppSession(Role.CENTRAL_SYSTEM)
    for case in fuzz_frames(seed=11, count=1000):
        core.receive_text(case.text)
        frames = core.data_to_send()
        if case.reply_id is None:
            assert frames == [], case
            continue
        if not frames:  # handed to the application: only a CALL nothing is wrong with at frame
            assert case.codes is None, case  # level; the application answers (here: refuses)
            core.send_error(case.reply_id, "NotSupported")
            frames = core.data_to_send()
        assert len(frames) == 1, case
        problems = [p for p in check_reply(case, frames[0]) if "NotSupported" not in p]
        assert problems == [], (case, frames[0])
