"""Run a Pulumi program in-process under the SDK's mock engine and record every
resource it registers (type, name, parent, inputs).

The mock monitor stands in for the Pulumi engine (pulumi.runtime.set_mocks,
pulumi ≥ 3.100); nothing leaves the process. The SDK keeps its runtime in
module globals, so runs are serialised with a lock and each run resets the
config, the pending-RPC and pending-output sets before starting: this makes
the runner callable any number of times per process (tests, the benchmark).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pulumi.output import Unknown
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.config import set_all_config
from pulumi.runtime.settings import SETTINGS
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

T = TypeVar("T")
_LOCK = threading.Lock()
STACK_TYPE = "pulumi:pulumi:Stack"
UNKNOWN = "(known after apply)"


@dataclass(frozen=True)
class Registration:
    type: str
    name: str
    urn: str
    parent_urn: str
    custom: bool
    inputs: dict[str, Any]


#: Provider-computed attributes that components commonly read back (an ARN for
#: a policy, a DNS name for a mount): placeholders so such reads yield strings
#: that say where they come from, instead of None breaking an apply().
COMPUTED = {
    "arn": "mock-arn:{name}",
    "dnsName": "{name}.mock.internal",
    "mountName": "{name}",
    "latestVersion": "1",
}


class EchoMocks(pulumi_mocks.Mocks):
    """Every resource's outputs are its inputs (plus COMPUTED placeholders); its id is its name."""

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        state = {k: v.format(name=args.name) for k, v in COMPUTED.items()}
        state.update(args.inputs)
        return f"{args.name}-id", state

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


class RecordingMonitor(pulumi_mocks.MockMonitor):
    def __init__(self, mocks: pulumi_mocks.Mocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Registration] = []

    def RegisterResource(self, request: Any) -> Any:  # the gRPC method it overrides
        # pulumi's MockMonitor (3.x) leaves its gRPC methods unannotated.
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != STACK_TYPE:
            inputs = rpc.deserialize_properties(request.object)
            self.registrations.append(
                Registration(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    parent_urn=request.parent,
                    custom=bool(request.custom),
                    inputs=plain(inputs),
                )
            )
        return response


def plain(value: Any) -> Any:
    """Inputs as plain JSON values. Protobuf Struct carries every number as a
    double, so integral floats are turned back into ints (replicas: 2, not 2.0)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Unknown):  # only outputs of other resources can be unknown
        return UNKNOWN
    return value


def run_under_mocks(
    program: Callable[[], T], config: dict[str, Any], *, project: str, stack: str
) -> tuple[T, list[Registration]]:
    """Run ``program`` as stack ``stack``; return its result and the registrations.

    ``config`` maps full keys (``llmpod:services``) to values; non-strings are
    passed JSON-encoded, as the Pulumi engine passes structured config.
    """
    strings = {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}
    with _LOCK:
        monitor = RecordingMonitor(EchoMocks())
        set_all_config(strings)
        # preview=False: the mocks "create" every resource, so outputs that feed
        # other inputs (ids, ARNs) are known values rather than preview unknowns.
        pulumi_mocks.set_mocks(
            EchoMocks(), project=project, stack=stack, preview=False, monitor=monitor
        )
        SETTINGS.rpc_manager.clear()
        SETTINGS.outputs.clear()
        box: list[T] = []

        def body() -> None:
            box.append(program())

        try:
            _sync_await(run_pulumi_func(body))
        finally:
            set_all_config({})
        return box[0], list(monitor.registrations)
