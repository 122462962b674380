"""The README's "With the Pulumi CLI" steps on the dev stack, with the real CLI and
Kubernetes provider: select (create), preview, up, a second preview with
--expect-no-changes, destroy — and the YAML the real engine writes is what
`llmpod render dev` writes."""

from __future__ import annotations

from pathlib import Path

from llmpod.render.api import render_stack

from .engine import Engine, step
from .manifests import object_differences, objects_from_texts, objects_in_dir

#: Where the dev stack's renderDir (build/dev-rendered) lands: the project root, as the
#: README says (the provider runs in `main:`, llmpod rewrites the path for it).
RENDERED = Path("build") / "dev-rendered"

#: The only differences between the real provider's YAML and llmpod's mock render, each a
#: Kubernetes default the provider (4.25.0, render mode) leaves out: `readOnly: false` on a
#: volume mount and a PVC volume source, and an empty `ingress: []` beside
#: `policyTypes: [Ingress]` (omitted and empty both deny all ingress). Anything else that
#: differs fails the test.
EXPECTED_DIFFERENCES = {
    (
        "Job/qwen-7b-weights-8702e693",
        "spec.template.spec.containers[0].volumeMounts[2].readOnly",
        "omitted: False",
    ),
    (
        "Job/qwen-7b-weights-8702e693",
        "spec.template.spec.volumes[2].persistentVolumeClaim.readOnly",
        "omitted: False",
    ),
    ("NetworkPolicy/qwen-7b-weights-loader", "spec.ingress", "omitted: []"),
}


def test_readme_steps_on_dev_write_what_llmpod_render_writes(engine: Engine, project: Path) -> None:
    report = engine.drive(project, "dev", "select", "preview", "up", "preview-no-changes")
    preview, up = step(report, "preview"), step(report, "up")
    expected = objects_from_texts(render_stack("dev").files.values())
    # The stack, the Kubernetes provider, the service's component and the Namespaces
    # component, then every object.
    resources = len(expected) + 4
    assert preview["changes"] == {"create": resources}
    assert up["changes"] == preview["changes"]
    # --expect-no-changes passed: a second preview of the same files changes nothing.
    assert step(report, "preview-no-changes")["changes"] == {"same": resources}
    assert report["outputs"]["qwen-7b.endpoint"] == "http://qwen-7b.llm-dev.svc:80"

    written = objects_in_dir(project / RENDERED)
    assert sorted(written) == sorted(expected)
    assert set(object_differences(written, expected)) == EXPECTED_DIFFERENCES

    destroyed = engine.drive(project, "dev", "destroy")
    assert step(destroyed, "destroy")["changes"] == {"delete": resources}
    assert objects_in_dir(project / RENDERED) == {}
