"""Cycle models, the convolution engine's analytical model, tiling search and planner."""

import itertools

import pytest

import hlsk


def cdiv(a, b):
    return -(-a // b)


# --- TLMM cycle models -----------------------------------------------------------


@pytest.mark.parametrize("g,t,p", [(3, 4, 16), (1, 12, 16), (3, 1, 4), (2, 3, 5)])
@pytest.mark.parametrize("m,k", [(1, 1), (7, 30), (64, 256), (1536, 1536)])
def test_os_model_against_the_spec_closed_form(g, t, p, m, k):
    model = hlsk.OsCycleModel(g, t, p)
    chunks = cdiv(cdiv(k, g), t)
    blocks = cdiv(m, p)
    ideal = blocks * chunks + cdiv(k, 4) + model.pipe_latency() + (m - (blocks - 1) * p) + 3
    assert model.chunks(k) == chunks
    assert model.ideal(m, k) == ideal
    b = model.breakdown(m, k)
    assert b["load"] + b["compute"] + b["drain"] == b["total"] == model.predict(m, k)
    # Every weight beat takes a cycle: the compute phase is at least the beats.
    assert b["compute"] >= blocks * chunks
    assert model.utilization(m, k, b["total"]) == pytest.approx(m * k / (g * t * p * b["total"]))


def test_os_model_reproduces_the_readme_figures():
    # README: ECP5 build G3/T4/P16 on the BitNet 0.73B layers, table lookups
    # and the Direct datapath (one lane register stage more: 12 leaves).
    model = hlsk.OsCycleModel(3, 4, 16)
    shapes = [(1536, 1536), (4096, 1536), (1536, 4096)]
    assert model.direct
    assert [model.predict(m, k) for m, k in shapes] == [12698, 33178, 33882]
    tables = model.with_direct(False)
    assert not tables.direct
    assert (model.pipe_latency(), tables.pipe_latency()) == (5, 4)
    assert [tables.predict(m, k) for m, k in shapes] == [12697, 33177, 33881]


@pytest.mark.parametrize("g,t,p", [(3, 3, 4), (1, 4, 4), (3, 2, 3), (1, 1, 1)])
@pytest.mark.parametrize("m,k", [(1, 1), (5, 7), (17, 64), (64, 256), (40, 512)])
def test_ts_model_against_its_closed_form(g, t, p, m, k):
    model = hlsk.TsCycleModel(g, t, p)
    entries = (3**g - 1) // 2 + 1
    assert model.entries() == entries and model.build_cycles() == 1 + entries
    nrb, nc = cdiv(m, p), cdiv(cdiv(k, g), t)
    ideal = cdiv(k, 4) + 2 + (1 + entries) + (nc - 1) * max(nrb, 1 + entries) + nrb + 2 + m + 4
    assert model.ideal(m, k) == ideal
    exact = model.predict(m, k)
    assert abs(exact - ideal) <= 4 + nc
    assert sum(model.breakdown(m, k)[key] for key in ("load", "compute", "drain")) == exact


# --- convolution engine model ------------------------------------------------------


def fp_buffers(n_on, m_on, tr, k, w, pad):
    """Buffer use of an FP tiling (conv model docs): input, weights, output."""
    wo = w + 2 * pad - k + 1
    return n_on * (tr + k - 1) * (w + 2 * pad), m_on * n_on * k * k, m_on * tr * wo


@pytest.mark.parametrize(
    "hw", [hlsk.HwConfig.up5k(), hlsk.HwConfig.ecp5(), hlsk.HwConfig(t=4, p=2, in_buf=600, overlap=False)]
)
@pytest.mark.parametrize("n,m,h,w,k,pad,b", [(3, 4, 6, 6, 3, 1, 2), (5, 6, 5, 7, 3, 0, 1), (8, 4, 4, 4, 1, 0, 3)])
def test_best_tiling_is_the_fastest_valid_tiling(hw, n, m, h, w, k, pad, b):
    shape = dict(n=n, m=m, h=h, w=w, k=k, pad=pad, b=b)
    tiling, stats = hlsk.best_tiling("FP", **shape, hw=hw)
    t = hw.t
    ho, wo = h + 2 * pad - k + 1, w + 2 * pad - k + 1
    # The constraints, checked here from their definitions.
    assert tiling["m_on"] % t == 0 and tiling["n_on"] % t == 0
    ins, ws, outs = fp_buffers(tiling["n_on"], tiling["m_on"], tiling["tr"], k, w, pad)
    assert ins <= hw.in_buf and ws <= hw.w_buf and outs <= hw.out_buf
    assert tiling["tr"] * cdiv(wo, hw.p) >= hw.acc_depth
    assert stats["cycles"] == stats["fired"] + stats["stall_input"] + stats["stall_weights"] + (
        stats["stall_output"] + stats["overhead"]
    )
    assert stats["macs"] == b * m * n * ho * wo * k * k
    assert stats == hlsk.predict("FP", **shape, **tiling, hw=hw)
    # No valid tiling is faster (exhaustive search over every tiling).
    fastest = None
    for tr, mo, no in itertools.product(range(1, ho + 1), range(1, cdiv(m, t) + 1), range(1, cdiv(n, t) + 1)):
        try:
            s = hlsk.predict("FP", **shape, tr=tr, m_on=mo * t, n_on=no * t, hw=hw)
        except ValueError:
            continue
        fastest = s["cycles"] if fastest is None else min(fastest, s["cycles"])
    assert stats["cycles"] == fastest


@pytest.mark.parametrize("op", ["BP", "WU", "POOL_FWD", "POOL_BWD"])
def test_best_tiling_of_every_op(op):
    hw = hlsk.HwConfig.ecp5()
    tiling, stats = hlsk.best_tiling(op, n=16, m=16, h=8, w=8, b=2, pad=1 if op in ("BP", "WU") else 0, hw=hw)
    assert stats == hlsk.predict(op, n=16, m=16, h=8, w=8, b=2, pad=1 if op in ("BP", "WU") else 0, **tiling, hw=hw)
    assert (stats["macs"] == 0) == op.startswith("POOL")


def test_predict_rejects_a_tiling_that_does_not_fit():
    hw = hlsk.HwConfig.up5k()
    with pytest.raises(ValueError, match="multiple of T"):
        hlsk.predict("FP", n=4, m=4, h=4, w=4, b=1, pad=1, tr=4, m_on=3, n_on=2, hw=hw)
    with pytest.raises(ValueError, match="hazard"):
        hlsk.predict("FP", n=4, m=4, h=4, w=1, k=1, b=1, tr=1, m_on=2, n_on=2, hw=hw)


def test_hw_config_fields_and_presets():
    hw = hlsk.HwConfig.ecp5()
    assert (hw.t, hw.p, hw.acc_w, hw.acc_w_wu, hw.peak_macs()) == (8, 2, 40, 48, 128)
    custom = hlsk.HwConfig(t=4, p=3, overlap=False)
    assert (custom.t, custom.p, custom.overlap, custom.in_buf) == (4, 3, False, hlsk.HwConfig.up5k().in_buf)
    custom.acc_w = 31
    with pytest.raises(ValueError, match="ACC_W"):
        custom.validate()


def test_plan_of_the_digits_network():
    inp, layers = hlsk.digits_network()
    assert inp == (1, 8, 8) and len(layers) == 5
    hw = hlsk.HwConfig.up5k()
    p = hlsk.plan(inp, layers, batch=8, hw=hw)
    ops = [(s["layer"], s["op"]) for s in p["steps"]]
    assert ops == [
        (0, "FP"),
        (1, "POOL_FWD"),
        (2, "FP"),
        (3, "POOL_FWD"),
        (4, "to_batch_width"),
        (4, "FP"),
        (4, "loss"),
        (4, "BP"),
        (4, "from_batch_width"),
        (4, "WU"),
        (3, "POOL_BWD"),
        (2, "BP"),
        (2, "WU"),
        (1, "POOL_BWD"),
        (0, "WU"),
    ]
    engine = [s for s in p["steps"] if s["kind"] == "engine"]
    assert p["predicted"]["cycles"] == sum(s["predicted"]["cycles"] for s in engine)
    codes = {"FP": 0, "BP": 1, "WU": 2, "POOL_FWD": 3, "POOL_BWD": 4}
    for s in engine:
        assert len(s["words"]) == 12 and s["words"][0] >> 24 == 0xC1 and s["words"][0] & 0xF == codes[s["op"]]
        shape = {key: s[key] for key in ("n", "m", "h", "w", "k", "pad", "b")}
        tiling = {key: s[key] for key in ("tr", "m_on", "n_on")}
        best, stats = hlsk.best_tiling(
            s["op"], **shape, hw=hw, relu_mask=s["relu_mask"], write_w16=s["write_w16"]
        )
        assert (best, stats) == (tiling, s["predicted"])
    # ReLU on the FP of the two conv layers, the mask on BP after a ReLU, w16 written by WU.
    assert [s["relu"] for s in engine if s["op"] == "FP"] == [True, True, False]
    assert all(s["relu_mask"] for s in engine if s["op"] == "BP")
    assert all(s["write_w16"] for s in engine if s["op"] == "WU")


def test_plan_of_a_custom_network_with_magnitudes():
    layers = [hlsk.Layer.conv(4, k=1, pad=0, relu=False), hlsk.Layer.fc(3)]
    mags = {"input": 2.0, "weight": [0.5, 0.5], "act": [4.0, 8.0], "grad": [1.0, 1.0]}
    p = hlsk.plan((2, 4, 4), layers, batch=8, hw=hlsk.HwConfig.ecp5(), lr=0.01, magnitudes=mags)
    assert [s["op"] for s in p["steps"]] == ["FP", "to_batch_width", "FP", "loss", "BP", "from_batch_width", "WU", "WU"]
    assert p["mem_words"] > 0
    assert repr(layers[0]) == "Layer.conv(4, k=1, pad=0, relu=False)"
