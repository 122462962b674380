"""One test per failure mode of DESIGN.md that the Kubernetes objects prevent."""

from __future__ import annotations

from typing import Any

import pytest
from k8s_specs import by_kind, container, one, plan

from llmpod.gpus.catalog import find_gpu
from llmpod.k8s.manifests import build_manifests

FIXED_PROBE_BUDGET_S = 60 * 10  # the 60 × 10 s startup budget that kills 70B pods


def _pod(shape: str, **overrides: Any) -> dict[str, Any]:
    objects = build_manifests(plan(shape, **overrides))
    if shape == "multinode":
        leader: dict[str, Any] = one(objects, "LeaderWorkerSet")["spec"]["leaderWorkerTemplate"][
            "leaderTemplate"
        ]["spec"]
        return leader
    pod: dict[str, Any] = one(objects, "Deployment")["spec"]["template"]["spec"]
    return pod


@pytest.mark.parametrize("shape", ["tp1", "tp8", "multinode"])
def test_liveness_cannot_kill_a_pod_still_reading_its_weights(shape: str) -> None:
    sp = plan(shape)
    vllm = container(_pod(shape), "vllm")
    startup = vllm["startupProbe"]
    # Kubernetes runs liveness only after the startup probe succeeded; the
    # startup window must cover reading every byte at the volume's bandwidth.
    read_s = sp.plan.weights_gib_total * 1024 / sp.spec.weights.load_bandwidth_mb_s
    window = startup["failureThreshold"] * startup["periodSeconds"]
    assert window >= read_s
    # ... and a first start that compiles (no cache yet), not just a warm one.
    assert sp.plan.estimates is not None
    estimate = sp.plan.estimates["startup_s"]
    assert estimate["total"] > estimate["total_warm_cache"] > read_s
    assert window >= estimate["total"]
    env = {v["name"]: v.get("value") for v in vllm["env"]}
    assert env["LLMPOD_STARTUP_TIMEOUT_S"] == str(window)
    assert (
        startup["httpGet"]
        == vllm["livenessProbe"]["httpGet"]
        == {"path": "/health", "port": "http"}
    )


def test_a_70b_model_gets_more_than_the_fixed_ten_minutes() -> None:
    startup = container(_pod("tp8"), "vllm")["startupProbe"]
    # 70B bf16 ≈ 131 GiB at the default 400 MB/s ≈ 336 s of pure reading, plus
    # process start and a cold engine init, with a safety factor: well past 600 s.
    assert startup["failureThreshold"] * startup["periodSeconds"] > FIXED_PROBE_BUDGET_S


@pytest.mark.parametrize("shape", ["tp1", "multinode"])
def test_traffic_reaches_only_warmed_up_pods(shape: str) -> None:
    sp = plan(shape)
    vllm = container(_pod(shape), "vllm")
    # /ready is the entrypoint's (200 after warmup, 503 while draining), not vLLM's /health.
    assert vllm["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "status"}
    status_port = next(p for p in vllm["ports"] if p["name"] == "status")["containerPort"]
    assert status_port == 8081  # LLMPOD_STATUS_PORT default of the image
    svc = one(build_manifests(sp), "Service")
    assert not svc["spec"].get("publishNotReadyAddresses", False)
    if shape == "multinode":  # workers run only Ray: they must never be endpoints
        assert svc["spec"]["selector"]["llmpod.io/role"] == "leader"


def _shm(pod: dict[str, Any]) -> dict[str, Any] | None:
    return next((v for v in pod["volumes"] if v["name"] == "dshm"), None)


@pytest.mark.parametrize("shape", ["tp8", "multinode"])
def test_nccl_gets_an_in_memory_dev_shm_when_a_pod_has_several_gpus(shape: str) -> None:
    pod = _pod(shape)
    shm = _shm(pod)
    assert shm is not None and shm["emptyDir"]["medium"] == "Memory"
    mounts = {m["mountPath"]: m["name"] for m in container(pod, "vllm")["volumeMounts"]}
    assert mounts["/dev/shm"] == "dshm"
    # The kernel charges /dev/shm to the container: the memory limit must hold it.
    size = int(shm["emptyDir"]["sizeLimit"].removesuffix("Gi"))
    memory = int(container(pod, "vllm")["resources"]["limits"]["memory"].removesuffix("Gi"))
    assert memory > size


def test_a_single_gpu_pod_needs_no_shared_memory_volume() -> None:
    assert _shm(_pod("tp1")) is None


@pytest.mark.parametrize("shape", ["tp1", "multinode"])
def test_weights_volume_is_read_write_many_and_read_only_in_serving_pods(shape: str) -> None:
    objects = build_manifests(plan(shape))
    claims = {o["metadata"]["name"]: o for o in by_kind(objects, "PersistentVolumeClaim")}
    assert all(c["spec"]["accessModes"] == ["ReadWriteMany"] for c in claims.values())
    pod = _pod(shape)
    weights = next(v for v in pod["volumes"] if v["name"] == "weights")
    assert weights["persistentVolumeClaim"]["readOnly"] is True
    mount = next(m for m in container(pod, "vllm")["volumeMounts"] if m["name"] == "weights")
    assert mount == {"mountPath": "/models", "name": "weights", "readOnly": True}


def test_whole_node_pods_use_recreate_partial_node_pods_surge() -> None:
    # TP 8 on an 8-GPU H100 node: no second node is free for a surge pod.
    assert find_gpu("H100").max_gpus_per_node == 8
    tp8 = one(build_manifests(plan("tp8")), "Deployment")["spec"]["strategy"]
    assert tp8 == {"type": "Recreate"}
    tp1 = one(build_manifests(plan("tp1")), "Deployment")["spec"]["strategy"]
    assert tp1 == {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}, "type": "RollingUpdate"}
    lws = one(build_manifests(plan("multinode")), "LeaderWorkerSet")["spec"]["rolloutStrategy"]
    assert lws["rollingUpdateConfiguration"] == {"maxSurge": 0, "maxUnavailable": 1}


def test_only_the_loader_downloads_and_pods_wait_for_its_marker() -> None:
    objects = build_manifests(plan("tp8"))
    pod = _pod("tp8")
    env = {v["name"]: v.get("value") for v in container(pod, "vllm")["env"]}
    assert env["HF_HUB_OFFLINE"] == "1"
    assert [c["name"] for c in pod["initContainers"]] == ["wait-for-weights"]
    jobs = [o for o in objects if o["kind"] == "Job"]
    assert len(jobs) == 1 and jobs[0]["spec"]["parallelism"] == 1


def test_a_new_revision_gets_a_new_loader_job_and_marker() -> None:
    same = one(build_manifests(plan("tp1")), "Job")["metadata"]["name"]
    again = one(build_manifests(plan("tp1")), "Job")["metadata"]["name"]
    pinned = one(build_manifests(plan("tp1", revision="abc123")), "Job")["metadata"]["name"]
    assert same == again != pinned
    scripts = next(
        o
        for o in build_manifests(plan("tp1", revision="abc123"))
        if o["metadata"]["name"].endswith("-scripts")
    )
    assert "revision=abc123\n" in scripts["data"]["weights-marker"]


def test_multi_node_workers_also_wait_for_the_filled_volume() -> None:
    lws = one(build_manifests(plan("multinode")), "LeaderWorkerSet")
    worker = lws["spec"]["leaderWorkerTemplate"]["workerTemplate"]["spec"]
    assert [c["name"] for c in worker["initContainers"]] == ["wait-for-weights"]
    assert any(v["name"] == "weights" for v in worker["volumes"])


def test_lws_group_is_recreated_together_and_workers_start_with_the_leader() -> None:
    spec = one(build_manifests(plan("multinode")), "LeaderWorkerSet")["spec"]
    assert spec["leaderWorkerTemplate"]["restartPolicy"] == "RecreateGroupOnPodRestart"
    # LeaderReady would wait for a leader that is ready only once workers joined.
    assert spec["startupPolicy"] == "LeaderCreated"


def test_network_policy_lets_a_multi_node_group_talk_to_itself() -> None:
    def serving_policy(shape: str) -> dict[str, Any]:
        return next(
            o
            for o in build_manifests(plan(shape))
            if o["kind"] == "NetworkPolicy"
            and o["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "server"
        )

    multi = serving_policy("multinode")["spec"]["ingress"]
    assert any("podSelector" in src for rule in multi for src in rule["from"])
    single = serving_policy("tp1")["spec"]["ingress"]
    assert not any("podSelector" in src for rule in single for src in rule["from"])
    assert single[0]["from"][0]["namespaceSelector"]["matchExpressions"][0]["values"] == [
        "ingress-nginx"
    ]
    assert single[0]["ports"] == [{"port": 8000, "protocol": "TCP"}]


def test_gpu_product_affinity_uses_every_catalog_label_and_tolerates_the_taint() -> None:
    pod = _pod("tp1", gpus={"types": ["H200"]}, kubernetes={"extra_node_selector": {"pool": "gpu"}})
    term = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ][0]["matchExpressions"]
    assert {
        "key": "nvidia.com/gpu.product",
        "operator": "In",
        "values": sorted(find_gpu("H200").k8s_product_labels),
    } in term
    assert {"key": "pool", "operator": "In", "values": ["gpu"]} in term
    assert {"effect": "NoSchedule", "key": "nvidia.com/gpu", "operator": "Exists"} in pod[
        "tolerations"
    ]


def test_amd_gpus_use_the_amd_resource_and_label() -> None:
    pod = _pod("tp1", gpus={"types": ["MI300X"]})
    vllm = container(pod, "vllm")
    assert vllm["resources"]["limits"]["amd.com/gpu"] == "1"
    keys = [
        e["key"]
        for e in pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
            "nodeSelectorTerms"
        ][0]["matchExpressions"]
    ]
    assert keys == ["amd.com/gpu.product-name"]


def test_gpus_are_exclusive_so_no_other_process_holds_their_memory() -> None:
    pod = _pod("tp8")
    for c in pod["containers"] + pod["initContainers"]:
        res = c["resources"]
        gpus = res["limits"].get("nvidia.com/gpu")
        assert gpus == res["requests"].get("nvidia.com/gpu")
        if c["name"] != "vllm":
            assert gpus is None  # an init container holding a GPU would block vLLM's


def test_grace_period_covers_the_entrypoints_drain() -> None:
    pod = _pod("tp1")
    env = {
        v["name"]: int(v["value"])
        for v in container(pod, "vllm")["env"]
        if v["name"] in ("LLMPOD_DRAIN_TIMEOUT_S", "LLMPOD_VLLM_STOP_TIMEOUT_S")
    }
    assert pod["terminationGracePeriodSeconds"] > sum(env.values())


def test_pods_run_hardened() -> None:
    for shape in ("tp1", "multinode"):
        pod = _pod(shape)
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        # A 600 GB volume chowned on each mount would blow the startup budget.
        assert pod["securityContext"]["fsGroupChangePolicy"] == "OnRootMismatch"
        for c in pod["containers"] + pod["initContainers"]:
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False
            assert sc["capabilities"] == {"drop": ["ALL"]}
            assert sc["readOnlyRootFilesystem"] is True
        mounts = {m["mountPath"] for m in container(pod, "vllm")["volumeMounts"]}
        assert {"/tmp", "/home/llmpod"} <= mounts  # the writable places under a read-only root


@pytest.mark.parametrize("shape", ["tp1", "multinode"])
def test_every_replica_does_not_recompile_the_compile_cache_is_shared_and_writable(
    shape: str,
) -> None:
    sp = plan(shape)
    objects = build_manifests(sp)
    claim = next(
        o
        for o in by_kind(objects, "PersistentVolumeClaim")
        if o["metadata"]["name"].endswith("-compile-cache")
    )
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]  # every replica, every node
    pod = _pod(shape)
    volume = next(v for v in pod["volumes"] if v["name"] == "compile-cache")
    assert volume["persistentVolumeClaim"] == {"claimName": claim["metadata"]["name"]}
    vllm = container(pod, "vllm")
    mount = next(m for m in vllm["volumeMounts"] if m["name"] == "compile-cache")
    assert not mount.get("readOnly", False)
    # The pod's user can write the claim's root: fsGroup makes it group-writable.
    assert pod["securityContext"]["fsGroup"] == vllm["securityContext"]["runAsUser"]
    env = {v["name"]: v.get("value") for v in vllm["env"]}
    cache_dir = env["LLMPOD_COMPILE_CACHE_DIR"]
    assert cache_dir.startswith(mount["mountPath"] + "/")
    key = cache_dir.removeprefix(mount["mountPath"] + "/")
    e = sp.evaluation
    assert "/" not in key and ".." not in key
    assert f"vllm-{sp.spec.image.vllm_version}_" in key and f"_tp{e.tp}-pp{e.pp}_" in key
    # vLLM itself writes only the pod-local copy on the /tmp emptyDir.
    assert env["LLMPOD_COMPILE_CACHE_LOCAL"].startswith("/tmp/")


def test_the_cache_key_changes_with_layout_and_version_not_with_replicas() -> None:
    from llmpod.backends.compile_cache import compile_cache_key

    base = compile_cache_key(plan("tp1"))
    assert compile_cache_key(plan("tp1", replicas={"min": 3, "max": 3})) == base
    assert compile_cache_key(plan("tp1", image={"vllm_version": "0.31.0"})) != base
    assert compile_cache_key(plan("tp8")) != base
