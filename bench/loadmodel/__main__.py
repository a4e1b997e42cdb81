"""`make loadmodel` (issue 13): two scenarios on simulated time, their
figures, and a non-zero exit when a target is missed.

    python -m bench.loadmodel [--posts 100000] [--accounts 50000] [--spread 0]

1. The burst: `--posts` TikTok direct posts due at the top of one minute
   (`--spread 0`: all in its first second, the worst case for the fan-out;
   `--spread 60`: evenly over the minute), two per account.
   Targets: p99 lateness of the init call <= 60 s, no partition above its
   limit and no throttled request, 0 posts failed, <= $40 per million posts.
2. One account: 100 posts for one TikTok account due at once. Targets: all
   100 published, 0 `rate_limit_exceeded` from TikTok, inits paced at the
   token's limit (6 in a minute, never 7).
"""
from __future__ import annotations

import argparse
import sys
from typing import Any

from bench.loadmodel import costs as pricing
from bench.loadmodel.infra import percentile
from bench.loadmodel.model import Options, Result, run

P99_TARGET = 60.0
DOLLARS_TARGET = 40.0


def burst_report(r: Result) -> tuple[list[str], list[str]]:
    m = r.meter
    bill = pricing.bill(r)
    lines = [
        f"posts {r.posts}: {dict(r.statuses)}; failed by code {dict(r.failed_codes) or '{}'}",
        f"fan-out: longest slot {r.fan_out_seconds:.1f} s (simulated) for {r.sizing.shards} shards",
        f"lateness of the init call: p50 {percentile(r.lateness, 50):.1f} s, p99 {percentile(r.lateness, 99):.1f} s, "
        f"max {max(r.lateness, default=float('nan')):.1f} s ({len(r.lateness)} posts reached TikTok)",
        f"lambda: {r.invocations} invocations, {r.messages} messages, peak concurrency {r.peak_concurrency} "
        f"(cap {r.sizing.max_concurrency}, batch {r.sizing.batch_size}, {r.sizing.memory_mb} MB), "
        f"{r.gb_seconds:.0f} GB-s, handler errors {r.errors}, dead letters {r.dead_letters}",
        f"tiktok: most inits in a minute for one token {r.max_init_per_minute}, refused {r.rate_limited or 0}",
        "dynamodb, peak per partition and second (limits 1,000 WCU / 3,000 RCU):",
        *("  " + line for line in m.text().splitlines()),
        "whole table / index, peak per second (the on-demand table quota is 40,000 WRU and RRU): "
        + ", ".join(f"{t.name} {t.peak_total_wcu.units:.0f} WCU {t.peak_total_rcu.units:.0f} RCU"
                    for t in m.targets.values()),
        f"aws calls per post: " + ", ".join(f"{k} {v / r.posts:.2f}" for k, v in sorted(bill.calls.items())),
        "cost per million posts: " + ", ".join(f"{k} ${v:.2f}" for k, v in bill.per_million.items())
        + f"; total ${bill.total_per_million:.2f}",
        "sweeper runs that sent posts: " + (", ".join(f"+{at:.0f} s: {n} posts in {took:.1f} s"
                                                      for at, n, took in r.extra.get("sweeps", []) if n) or "none"),
        f"(simulated {r.sim_seconds:.0f} s in {r.wall_seconds:.0f} s of this machine)",
    ]
    missed = []
    p99 = percentile(r.lateness, 99)
    if len(r.lateness) < r.posts or not p99 <= P99_TARGET:
        missed.append(f"p99 lateness {p99:.1f} s > {P99_TARGET} s (or posts never reached TikTok)")
    over = [t.name for t in m.targets.values() if t.peak_wcu.units > 1000 or t.peak_rcu.units > 3000]
    if over or m.throttled_requests:
        missed.append(f"partitions over their limit {over}, throttled requests {m.throttled_requests}")
    if r.statuses.get("published", 0) != r.posts:
        missed.append(f"not all published: {dict(r.statuses)} {dict(r.failed_codes)}")
    if bill.total_per_million > DOLLARS_TARGET:
        missed.append(f"${bill.total_per_million:.2f} per million posts > ${DOLLARS_TARGET}")
    return lines, missed


def one_account_report(r: Result) -> tuple[list[str], list[str]]:
    lines = [
        f"posts {r.posts} for one account: {dict(r.statuses)}; failed by code {dict(r.failed_codes) or '{}'}",
        f"inits: most in a minute {r.max_init_per_minute}, refused by TikTok {r.rate_limited or 0}; "
        f"first to last init {max(r.lateness) - min(r.lateness):.0f} s",
    ]
    missed = []
    if r.statuses.get("published", 0) != r.posts:
        missed.append(f"not all published: {dict(r.statuses)}")
    if any(r.rate_limited.values()):
        missed.append(f"TikTok refused calls: {r.rate_limited}")
    if r.max_init_per_minute != 6:
        missed.append(f"inits not paced at the token's limit: {r.max_init_per_minute} in a minute")
    return lines, missed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=None, help="default: posts / 2")
    parser.add_argument("--spread", type=float, default=0.0, help="seconds the due times spread over")
    parser.add_argument("--skip-one-account", action="store_true")
    parser.add_argument("--lost-slots", action="store_true",
                        help="no slot fires (CreateSchedule throttled): the sweeper publishes everything")
    args = parser.parse_args(argv)
    missed: list[str] = []
    print(f"== burst: {args.posts} posts due within {max(args.spread, 1):.0f} s ==", flush=True)
    result = run(Options(posts=args.posts, accounts=args.accounts or max(1, args.posts // 2), spread=args.spread,
                         lost_slots=args.lost_slots))
    lines, burst_missed = burst_report(result)
    print("\n".join(lines), flush=True)
    missed += burst_missed
    if not args.skip_one_account:
        print("\n== one account: 100 posts due at once ==", flush=True)
        lines, one_missed = one_account_report(run(Options(posts=100, accounts=1)))
        print("\n".join(lines))
        missed += one_missed
    if missed:
        print("\nTARGETS MISSED:\n- " + "\n- ".join(missed))
        return 1
    print("\nall targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
