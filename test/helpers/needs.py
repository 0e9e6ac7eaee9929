"""The require-or-skip decision for the Python suites, the same rule and reason format as
test/helpers/env.ts: when something the suite needs is missing, under CI=true it is a failure,
elsewhere a skip whose reason (`needs <what>: <why> [enable: <how>]`) scripts/run-tests.mjs lists
in its summary. Suites import it after `sys.path.insert(0, <this folder>)`."""
import importlib
import json
import os
import unittest

IS_CI = os.environ.get("CI") == "true"


def need(what: str, why: str, enable: str):
    """Raises: an AssertionError under CI=true, unittest.SkipTest elsewhere."""
    if IS_CI:
        raise AssertionError(f"{what} is required under CI=true: {why} ({enable})")
    log = os.environ.get("PERTSET_TEST_SKIPS")
    if log:  # scripts/run-tests.mjs lists it in its summary
        with open(log, "a", encoding="utf-8") as f:
            f.write(json.dumps({"file": os.environ.get("PERTSET_TEST_SUITE", "?"), "what": what, "why": why, "enable": enable}) + "\n")
    raise unittest.SkipTest(f"needs {what}: {why} [enable: {enable}]")


def need_module(name: str, what: str, enable: str):
    """Imports and returns module `name`, or calls `need` with the import error."""
    try:
        return importlib.import_module(name)
    except ImportError as e:
        need(what, f"cannot import {name} ({e})", enable)


def need_path(path, what: str, enable: str):
    if not os.path.exists(path):
        need(what, f"not found at {path}", enable)
