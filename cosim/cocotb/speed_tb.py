"""cocotb speed testbench of the hlsk engines: the per-cycle drivers of the
Rust benchmark (cosim/benches/speed/{tlmm,conv,soc}.rs) written once more in
Python, on the stimulus the benchmark wrote ($HLSK_STIM), with the same
checksum. Writes cycles, seconds (the driving loop only) and the checksum
to $HLSK_RESULT. Run by run.py.

Each cycle as the Rust/C++ harness steps a model: drive the inputs, let them
settle (ReadOnly), sample the outputs, then the rising edge.
"""

import json
import os
import time

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ReadOnly, RisingEdge, Timer

MASK = (1 << 64) - 1
DESC_WORDS = 12


def mix(s, word):
    """One step of the benchmark's checksum (`mix` in speed/common.rs)."""
    return ((s ^ word) * 0x100000001B3) & MASK


async def reset_low(dut, cycles, idle):
    """The blocks' reset: rst_ni low for `cycles` edges, `idle` inputs at 0."""
    for h in idle:
        h.value = 0
    dut.rst_ni.value = 0
    for _ in range(cycles):
        await RisingEdge(dut.clk_i)
    dut.rst_ni.value = 1


async def tlmm(dut, s):
    cmd_valid, cmd_m, cmd_k, cmd_flags = dut.cmd_valid_i, dut.cmd_m_i, dut.cmd_k_i, dut.cmd_flags_i
    act_valid, act_data, act_last = dut.act_valid_i, dut.act_data_i, dut.act_last_i
    w_valid, w_data, w_last, res_ready = dut.w_valid_i, dut.w_data_i, dut.w_last_i, dut.res_ready_i
    cmd_ready, act_ready, w_ready = dut.cmd_ready_o, dut.act_ready_o, dut.w_ready_o
    res_valid, res_data, res_last = dut.res_valid_o, dut.res_data_o, dut.res_last_o
    busy, status, cnt_w_beats = dut.busy_o, dut.status_o, dut.cnt_w_beats_o
    await reset_low(dut, s["reset_cycles"], [cmd_valid, act_valid, w_valid, res_ready])
    words = s["w_words"]
    wd = s["w_data"]
    beats = [sum(wd[i * words + j] << (32 * j) for j in range(words)) for i in range(len(s["w_last"]))]
    cm, ck, cf = s["cmd_m"], s["cmd_k"], s["cmd_flags"]
    ad, al, wl, gates = s["act_data"], s["act_last"], s["w_last"], s["gates"]
    n_cmd, n_act, n_w, n_gate = len(cm), len(ad), len(wl), len(gates)
    ci = ai = wi = gi = 0
    total = 0
    edge, settled = RisingEdge(dut.clk_i), ReadOnly()
    t0 = time.perf_counter()
    for _ in range(s["cycles"]):
        g = gates[gi]
        gi = 0 if gi + 1 == n_gate else gi + 1
        cv, av, wv, rr = g & 1, (g >> 1) & 1, (g >> 2) & 1, (g >> 3) & 1
        cmd_valid.value = cv
        cmd_m.value = cm[ci]
        cmd_k.value = ck[ci]
        cmd_flags.value = cf[ci]
        act_valid.value = av
        act_data.value = ad[ai]
        act_last.value = al[ai]
        w_valid.value = wv
        w_data.value = beats[wi]
        w_last.value = wl[wi]
        res_ready.value = rr
        await settled
        p_cmd, p_act, p_w = int(cmd_ready.value), int(act_ready.value), int(w_ready.value)
        p_rv, p_busy, p_status = int(res_valid.value), int(busy.value), int(status.value)
        if cv and p_cmd:
            ci = 0 if ci + 1 == n_cmd else ci + 1
        if av and p_act:
            ai = 0 if ai + 1 == n_act else ai + 1
        if wv and p_w:
            wi = 0 if wi + 1 == n_w else wi + 1
        res = rr and p_rv
        word = (
            (int(res_data.value) if res else 0)
            ^ (p_status << 32)
            ^ ((1 if res and int(res_last.value) else 0) << 40)
            ^ (p_cmd << 41)
            ^ (p_act << 42)
            ^ (p_w << 43)
            ^ (p_rv << 44)
            ^ (p_busy << 45)
            ^ ((int(cnt_w_beats.value) & 0xFFFF) << 48)
        )
        total = mix(total, word)
        await edge
    return time.perf_counter() - t0, total


async def conv(dut, s):
    desc_valid, desc_data, req_ready = dut.desc_valid_i, dut.desc_data_i, dut.req_ready_i
    rd_valid, rd_data, wr_ready = dut.rd_valid_i, dut.rd_data_i, dut.wr_ready_i
    desc_ready, req_valid, req_addr, req_len = dut.desc_ready_o, dut.req_valid_o, dut.req_addr_o, dut.req_len_o
    req_write, rd_ready, wr_valid, wr_data = dut.req_write_o, dut.rd_ready_o, dut.wr_valid_o, dut.wr_data_o
    busy, done, error = dut.busy_o, dut.done_o, dut.error_o
    cnt = [dut.cnt_cycles_o, dut.cnt_fired_o, dut.cnt_rd_words_o, dut.cnt_wr_words_o]
    await reset_low(dut, s["reset_cycles"], [desc_valid, req_ready, rd_valid, wr_ready])
    t, wait_cycles, desc, gates = s["t"], s["wait"], s["desc"], s["gates"]
    mem = list(s["mem"])
    n_desc, n_gate = len(desc) // DESC_WORDS, len(gates)
    di = sent = gi = 0
    burst = None  # [addr, beats, write, wait]
    total = 0
    edge, settled = RisingEdge(dut.clk_i), ReadOnly()
    t0 = time.perf_counter()
    for _ in range(s["cycles"]):
        g = gates[gi]
        gi = 0 if gi + 1 == n_gate else gi + 1
        dv = 1 if sent < DESC_WORDS and not g & 1 else 0
        rq = 1 if burst is None and not g & 2 else 0
        rv = wr = 0
        rdata = 0
        if burst is not None and burst[3] == 0 and not g & 4:
            if burst[2]:
                wr = 1
            else:
                a = burst[0]
                if a + t > len(mem):
                    raise ValueError("conv bench: read burst outside the image")
                for k in range(t):
                    rdata |= (mem[a + k] & 0xFFFF) << (16 * k)
                rv = 1
        desc_valid.value = dv
        desc_data.value = desc[di * DESC_WORDS + sent] if sent < DESC_WORDS else 0
        req_ready.value = rq
        rd_valid.value = rv
        rd_data.value = rdata
        wr_ready.value = wr
        await settled
        p_dr, p_rqv, p_rdr, p_wv = int(desc_ready.value), int(req_valid.value), int(rd_ready.value), int(wr_valid.value)
        p_busy, p_done, p_err = int(busy.value), int(done.value), int(error.value)
        if dv and p_dr:
            sent += 1
        fire = wr and p_wv
        wdata = int(wr_data.value) if fire else 0
        if burst is not None:
            if burst[3] > 0:
                burst[3] -= 1
            elif burst[2] and fire:
                a = burst[0]
                if a + t > len(mem):
                    raise ValueError("conv bench: write burst outside the image")
                for k in range(t):
                    v = (wdata >> (16 * k)) & 0xFFFF
                    mem[a + k] = v - 0x10000 if v & 0x8000 else v
                burst[0] += t
                burst[1] -= 1
            elif not burst[2] and rv and p_rdr:
                burst[0] += t
                burst[1] -= 1
            if burst[1] == 0:
                burst = None
        word = wdata ^ (p_rqv << 63) ^ (p_dr << 62) ^ (p_rdr << 61) ^ (p_busy << 60) ^ (p_done << 59) ^ (p_err << 58)
        if p_rqv:
            addr, length, write = int(req_addr.value), int(req_len.value), int(req_write.value)
            if rq:
                if length == 0 or length % t:
                    raise ValueError("conv bench: request of part beats")
                burst = [addr, length // t, write, wait_cycles]
            word ^= (addr << 20) ^ (write << 57) ^ length
        total = mix(total, word)
        if sent == DESC_WORDS and p_done and not p_busy and burst is None:
            c = [int(h.value) for h in cnt]
            total = mix(total, c[0] | (c[1] << 32))
            total = mix(total, c[2] | (c[3] << 32))
            di = 0 if di + 1 == n_desc else di + 1
            sent = 0
        await edge
    return time.perf_counter() - t0, total


async def soc(dut, s):
    rx_pin, tx_pin, btn = dut.uart_rx_i, dut.uart_tx_o, dut.rst_btn_i
    pressed = 0 if s["btn_active_low"] else 1
    # As SocImpl::reset: released, then pressed (an edge whatever the
    # power-up level), for reset_cycles edges, then released.
    rx_pin.value = 1
    btn.value = 1 - pressed
    await Timer(1, units="ns")
    btn.value = pressed
    for _ in range(s["reset_cycles"]):
        await RisingEdge(dut.clk_i)
    btn.value = 1 - pressed
    rx = [1 if c == "1" else 0 for c in s["rx"]]
    total = 0
    edge, settled = RisingEdge(dut.clk_i), ReadOnly()
    t0 = time.perf_counter()
    for level in rx[: s["cycles"]]:
        rx_pin.value = level
        await settled
        total = mix(total, int(tx_pin.value) & 1)
        await edge
    return time.perf_counter() - t0, total


@cocotb.test()
async def speed(dut):
    """Drives the engine for the stimulus's cycles and records the speed."""
    with open(os.environ["HLSK_STIM"]) as f:
        s = json.load(f)
    cocotb.start_soon(Clock(dut.clk_i, 10, units="ns").start(start_high=False))
    seconds, total = await {"tlmm": tlmm, "conv": conv, "soc": soc}[s["engine"]](dut, s)
    with open(os.environ["HLSK_RESULT"], "w") as f:
        f.write(f"cycles {s['cycles']}\nseconds {seconds:.6f}\nchecksum {total:#018x}\n")
    dut._log.info("%s: %d cycles in %.2f s, %.4f M cycles/s", s["engine"], s["cycles"], seconds, s["cycles"] / seconds / 1e6)
