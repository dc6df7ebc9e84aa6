"""Text shared by the artifacts of the benchmark record (convergence and entropy figures, steps
table): problem labels and the statement of the step-size protocol, all read from the record."""
from __future__ import annotations

from .common import METHOD_LABELS, sci
from .run_benchmark import lr_grid, method_key

PROBLEM_LABELS = {"quadratic": "quadratic", "logistic_regression": "logistic regression",
                  "log_sum_exp": "log-sum-exp", "huber": "Huber",
                  "smoothed_abs": "smoothed absolute value"}
_PROBLEM_PARAMS = {"quadratic": (("cond", r"\kappa"),), "logistic_regression": (("n", "n"),
                   ("reg", "r")), "log_sum_exp": (("m", "m"),), "huber": (("delta", r"\delta"),),
                   "smoothed_abs": (("eps", r"\varepsilon"),)}


def problem_label(describe: dict, math_open: str = "$", math_close: str = "$") -> str:
    """``quadratic ($d=20$, $\\kappa=100$)``-style label from a problem's ``describe()``."""
    parts = [f"d={describe['d']}"] + [f"{symbol}={sci(describe['params'][key])}"
                                      for key, symbol in _PROBLEM_PARAMS[describe["name"]]]
    inner = ", ".join(f"{math_open}{part}{math_close}" for part in parts)
    return f"{PROBLEM_LABELS[describe['name']]} ({inner})"


def method_hyperparameters_tex(methods: list) -> str:
    """``EMC ($K=3$, entropy l2, $\\tau=1$) under the readings power, root, linear; GD; ...``."""
    emc = [m for m in methods if m["name"] == "emc"]
    symbols = {"beta": r"\beta", "b1": r"\beta_1", "b2": r"\beta_2", "eps": r"\epsilon"}
    parts = [rf"EMC ($K={emc[0]['K']}$, entropy \texttt{{{emc[0]['entropy']}}}, "
             rf"$\tau={sci(emc[0]['tau'])}$) under the readings "
             + ", ".join(m["reading"] for m in emc) + " of $h$"]
    for m in methods:
        if m["name"] == "emc":
            continue
        hyper = ", ".join(f"${symbols[k]}={sci(v)}$" for k, v in m.items() if k != "name")
        parts.append(METHOD_LABELS[m["name"]] + (f" ({hyper})" if hyper else ""))
    return "; ".join(parts)


def protocol_tex(p: dict) -> str:
    """The step-size protocol, stated once with every number from the record's parameters."""
    grid = p["lr_grid"]
    n_lr = lr_grid(grid).size
    return (rf"Step sizes: for every method and problem the constant step $\eta$ is chosen from "
            rf"the same grid of {n_lr} values $10^{{{grid['log10_low']}}},\dots,"
            rf"10^{{{grid['log10_high']}}}$ ({grid['per_decade']} per decade): the one that "
            rf"minimises the median, over {p['starts']} "
            + ("start point" if p["starts"] == 1 else "start points")
            + rf" $x_0 = x^\star + s z$, $s = {sci(p['start_scale'])}$, $z \sim N(0, I_d)$ "
            rf"(\texttt{{default\_rng([{p['seed']}, problem index])}}), of the number of steps to "
            rf"reach $f - f^\star \le {sci(p['target_rel_gap'])}\,(f(x_0) - f^\star)$, ties broken "
            rf"by the smaller median final gap; $T = {p['steps']}$ steps; problem seed "
            rf"{p['seed']}.")


def ordered(record: dict):
    """``(problem record, [(method key, method record), ...])`` in the parameters' order (the JSON
    record sorts its keys)."""
    p, problems = record["parameters"], record["data"]["problems"]
    for spec in p["problems"]:
        prob = problems[spec["name"]]
        yield prob, [(method_key(m), prob["methods"][method_key(m)]) for m in p["methods"]]
