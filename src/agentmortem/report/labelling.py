"""The offline labelling page `agentmortem sample` writes: people label a sample of traces, the page saves JSONL.

One self-contained HTML file: every sampled trace with its steps (the drill-down's renderer), and per mode of the
taxonomy a present / absent / unsure choice with the mode's definition beside it; a click on a step attaches it
as evidence to the mode being located, or makes it the decisive step (the step after which the run could no
longer succeed). "Save labels" downloads a JSONL file in the agreed label-row format (docs/label-quality.md),
which `agentmortem import-labels FILE --annotator NAME` reads back; nothing leaves the machine. Answers are also
kept in the browser's local storage for this sample, so a reload does not lose them.

Rows: `{"trace_id", "annotator", "annotator_kind": "human", "labels": {mode: 1 | 0 | null | {"present": true,
"evidence": [{"step": N}]}}, "decisive_step"?: N}` — one per trace with at least one answer; a mode never
answered is left out (unknown). Imported, the labeller is a human annotator, so `report` takes it as its
reference without being told.

The judge's verdicts are not in the page unless asked for (`show_judge`), so people label blind by default. As in
the report, every trace text goes through Jinja's autoescaping, the page data travels as JSON in a
non-executable script element, and a Content-Security-Policy allows only the page's own script, by hash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agentmortem.report.report import ModeInfo, TraceDetail

SCRIPT = r"""
(function () {
  var data = JSON.parse(document.getElementById('sample-data').textContent);
  var key = 'agentmortem-labels:' + data.sample_id;
  var state = {};
  try { state = JSON.parse(localStorage.getItem(key) || '{}'); } catch (e) { state = {}; }
  var target = {};  // trace index -> mode id being located, or '#decisive'

  function entry(t) {
    if (!state[t]) { state[t] = {labels: {}, evidence: {}, decisive: null}; }
    return state[t];
  }
  function keep() {
    try { localStorage.setItem(key, JSON.stringify(state)); } catch (e) { /* private mode: no autosave */ }
    document.getElementById('progress').textContent = labelledCount() + ' of ' + data.traces.length +
      ' traces labelled';
  }
  function labelledCount() {
    return data.traces.filter(function (_, t) { return hasAnswer(t); }).length;
  }
  function hasAnswer(t) {
    var e = state[t];
    return !!e && (Object.keys(e.labels).length > 0 || e.decisive !== null);
  }
  function render(t) {
    var e = entry(t), box = document.getElementById('trace-' + t);
    box.querySelectorAll('input[type=radio]').forEach(function (r) {
      r.checked = e.labels[r.getAttribute('data-mode')] === r.value;
    });
    box.querySelectorAll('[data-evidence-of]').forEach(function (span) {
      var steps = e.evidence[span.getAttribute('data-evidence-of')] || [];
      span.textContent = steps.length ? 'steps ' + steps.join(', ') : '';
    });
    box.querySelectorAll('button[data-locate]').forEach(function (b) {
      b.classList.toggle('on', target[t] === b.getAttribute('data-locate'));
    });
    box.querySelector('[data-decisive-shown]').textContent = e.decisive === null ? 'none' : 'step ' + e.decisive;
    box.querySelectorAll('ol.steps li').forEach(function (li) {
      var step = Number(li.getAttribute('data-step')), marks = [];
      Object.keys(e.evidence).forEach(function (m) { if (e.evidence[m].indexOf(step) >= 0) { marks.push(m); } });
      if (e.decisive === step) { marks.push('decisive'); }
      li.classList.toggle('picked', marks.length > 0);
      li.querySelector('.marks').textContent = marks.length ? ' ← ' + marks.join(', ') : '';
    });
    box.classList.toggle('done', hasAnswer(t));
  }
  function toggleStep(t, step) {
    var e = entry(t), goal = target[t];
    if (!goal) { return; }
    if (goal === '#decisive') {
      e.decisive = e.decisive === step ? null : step;
    } else {
      var steps = e.evidence[goal] || [], at = steps.indexOf(step);
      if (at >= 0) { steps.splice(at, 1); } else { steps.push(step); steps.sort(function (a, b) { return a - b; }); }
      e.evidence[goal] = steps;
      if (steps.length) { e.labels[goal] = 'present'; }
    }
    render(t); keep();
  }
  function row(t) {
    var e = state[t], labels = {};
    Object.keys(e.labels).forEach(function (m) {
      var answer = e.labels[m], steps = e.evidence[m] || [];
      if (answer === 'present') {
        labels[m] = steps.length ? {present: true, evidence: steps.map(function (s) { return {step: s}; })} : 1;
      } else {
        labels[m] = answer === 'absent' ? 0 : null;
      }
    });
    var out = {trace_id: data.traces[t], annotator: data.annotator, annotator_kind: 'human', labels: labels};
    if (e.decisive !== null) { out.decisive_step = e.decisive; }
    return out;
  }
  function save() {
    var lines = [];
    data.traces.forEach(function (_, t) { if (hasAnswer(t)) { lines.push(JSON.stringify(row(t))); } });
    var blob = new Blob([lines.join('\n') + (lines.length ? '\n' : '')], {type: 'application/x-ndjson'});
    var link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = data.file_name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    document.getElementById('saved').textContent = 'Saved ' + lines.length + ' rows as ' + data.file_name + '.';
  }

  document.querySelectorAll('section.label-trace').forEach(function (box) {
    var t = Number(box.getAttribute('data-trace'));
    box.addEventListener('change', function (ev) {
      var r = ev.target;
      if (r.type !== 'radio') { return; }
      entry(t).labels[r.getAttribute('data-mode')] = r.value;
      if (r.value !== 'present') { delete entry(t).evidence[r.getAttribute('data-mode')]; }
      render(t); keep();
    });
    box.addEventListener('click', function (ev) {
      var button = ev.target.closest('button');
      if (button && button.hasAttribute('data-locate')) {
        var goal = button.getAttribute('data-locate');
        target[t] = target[t] === goal ? null : goal;
        render(t); return;
      }
      if (button && button.hasAttribute('data-rest-absent')) {
        data.modes.forEach(function (m) { if (!(m in entry(t).labels)) { entry(t).labels[m] = 'absent'; } });
        render(t); keep(); return;
      }
      var li = ev.target.closest('ol.steps li');
      if (li) { toggleStep(t, Number(li.getAttribute('data-step'))); }
    });
    render(t);
  });
  document.getElementById('save').addEventListener('click', save);
  keep();
})();
"""
"""The page's only script: answers, evidence and decisive-step picking, autosave, and the JSONL download."""


@dataclass
class LabellingPage:
    """What the labelling page shows: the sample, the taxonomy's modes and each trace's steps."""

    annotator: str
    sample_id: str
    file_name: str
    modes: list[ModeInfo]
    traces: list[TraceDetail]
    show_judge: bool = False
    judge: str | None = None
    about: dict[str, Any] = field(default_factory=dict)


def render_labelling_page(page: LabellingPage) -> str:
    """The labelling page as one self-contained, offline HTML document."""
    # Imported here: the page model above is what the analysis builds; rendering needs Jinja.
    from markupsafe import Markup

    from agentmortem.report.html import cited_steps, content_security_policy, environment

    data = {
        "sample_id": page.sample_id, "annotator": page.annotator, "file_name": page.file_name,
        "traces": [t.id for t in page.traces], "modes": [m.id for m in page.modes],
    }  # fmt: skip
    template = environment().get_template("label.html.j2")
    return template.render(
        page=page,
        data=data,
        definitions={m.id: m.definition for m in page.modes},
        cited=[cited_steps(t) if page.show_judge else {} for t in page.traces],
        script=Markup(SCRIPT),  # our own constant, pinned by hash in the CSP
        csp=content_security_policy(SCRIPT),
    )
