// The backward page's script: plain JavaScript, no library. Step 0 is the forward graph with the
// seed; step k (1..N) is the k-th node the engine ran. The URL fragment #step=k names the step.
#include <autograd/viz/page_assets.hpp>

namespace ag::viz {
namespace {

// A block rather than one long function wrapping everything: its names stay out of the global
// scope all the same.
const char kScript[] = R"JS('use strict';
{
const data = JSON.parse(document.getElementById('ag-data').textContent);
const N = data.steps.length;
let current = -1, timer = null, selected = null;
const nodes = {}, tensors = {}, gradTexts = {};
document.querySelectorAll('#graph g.node').forEach(function (g) {
  var title = g.querySelector('title');
  if (title) nodes[title.textContent] = g;
});
data.tensors.forEach(function (t) { tensors[t.id] = t; });
data.ops.forEach(function (o) {
  if (nodes[o.id]) { nodes[o.id].setAttribute('data-name', o.label); nodes[o.id].setAttribute('data-output', tensors[o.output].label); }
});

// The lines of a record's grad field: from the text starting "grad " to the record's end.
data.tensors.forEach(function (t) {
  var g = nodes[t.id];
  if (!g) return;
  g.setAttribute('data-name', t.label);
  var texts = Array.prototype.slice.call(g.querySelectorAll('text'));
  var k = texts.findIndex(function (e) { return e.textContent.indexOf('grad ') === 0; });
  if (k >= 0) gradTexts[t.id] = { els: texts.slice(k), orig: texts.slice(k).map(function (e) { return e.textContent; }) };
});

function make(tag, cls, text) {
  var e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}
function emptied(id) {
  var e = document.getElementById(id);
  while (e.firstChild) e.removeChild(e.firstChild);
  return e;
}

// Each tensor's gradient as the picture shows it after step k.
function gradsAfter(k) {
  var state = {};
  state.t0 = { text: data.seed, complete: true, of: '' };
  for (var i = 0; i < k; ++i)
    data.steps[i].grads.forEach(function (g) { state[g.tensor] = g; });
  return state;
}

function setGradText(id, st) {
  var gt = gradTexts[id];
  if (!gt) return;
  gt.els.forEach(function (e, i) {
    e.classList.remove('grad-pending', 'grad-partial');
    if (st && st.complete) { e.textContent = gt.orig[i]; return; }
    e.textContent = i ? '' : (st ? 'grad ' + st.text + ' \u2026' : 'grad ?');
    e.classList.add(st ? 'grad-partial' : 'grad-pending');
  });
}

function paintGraph(k) {
  Object.keys(nodes).forEach(function (id) { nodes[id].classList.remove('current', 'done', 'fresh', 'arriving'); });
  for (var i = 0; i < k - 1; ++i) if (nodes[data.steps[i].op]) nodes[data.steps[i].op].classList.add('done');
  if (k > 0) {
    var s = data.steps[k - 1];
    if (nodes[s.op]) {
      nodes[s.op].classList.add('current');
      nodes[s.op].scrollIntoView({ block: 'center', inline: 'center' });
    }
    if (nodes[s.output]) nodes[s.output].classList.add('arriving');
    s.inputs.forEach(function (inp) { if (nodes[inp.tensor]) nodes[inp.tensor].classList.add('fresh'); });
  }
  var state = gradsAfter(k);
  Object.keys(gradTexts).forEach(function (id) { setGradText(id, state[id]); });
}

function mathLines(parent, first, lines, resultClass, tensor) {
  parent.appendChild(make('div', 'math', first));
  lines.forEach(function (line, i) {
    var d = make('div', 'math' + (i === lines.length - 1 && resultClass ? ' ' + resultClass : ''), '    = ' + line);
    if (i === lines.length - 1 && tensor) d.setAttribute('data-tensor', tensor);
    parent.appendChild(d);
  });
}

function showArriving(s) {
  var box = emptied('arriving');
  if (s.sum.length) {
    var sum = s.sum[0];
    box.appendChild(make('div', 'caption', 'Arriving from above along ' + sum.paths + ' paths, so they add up:'));
    mathLines(box, sum.lhs + ' = ' + sum.terms, sum.lines, 'grad-sum', tensors[s.output].label);
  } else {
    box.appendChild(make('div', 'caption', 'Arriving from above:'));
    box.appendChild(make('div', 'math grad-arriving', s.incoming_lhs + ' = ' + (s.incoming || '(none: this op does not lead to ' + data.root + ')')));
  }
}

function showRule(s) {
  var box = emptied('rule');
  box.appendChild(make('div', 'caption', 'Local derivative:'));
  box.appendChild(make('div', 'math', s.rule || s.words));
}

function showNumbers(s) {
  var box = emptied('numbers');
  if (!s.inputs.length) return;
  box.appendChild(make('div', 'caption', 'The numbers, multiplied out:'));
  s.inputs.forEach(function (inp) {
    var d = make('div', 'input-step');
    d.setAttribute('data-tensor', tensors[inp.tensor].label);
    if (inp.missing) {
      d.appendChild(make('div', 'math', inp.lhs + ' = ' + inp.formula));
      d.appendChild(make('div', 'missing', '(numbers not recomputed: ' + inp.missing + ')'));
    } else {
      mathLines(d, inp.lhs + ' = ' + inp.formula, inp.lines, 'grad-result', tensors[inp.tensor].label);
    }
    box.appendChild(d);
  });
}

function showInputs(s) {
  var box = emptied('on-inputs');
  if (!s.grads.length) return;
  box.appendChild(make('div', 'caption', 'Now on the inputs (in the picture):'));
  var list = make('ul');
  s.grads.forEach(function (g) {
    var li = make('li', 'math', tensors[g.tensor].label + '.grad = ' + g.text + (g.complete ? '' : '  (' + g.of + ' so far)'));
    li.setAttribute('data-tensor', tensors[g.tensor].label);
    list.appendChild(li);
  });
  box.appendChild(list);
}

function showStart() {
  ['arriving', 'rule', 'numbers', 'on-inputs'].forEach(emptied);
  document.getElementById('step-title').textContent = 'Start: the forward pass is done';
  document.getElementById('expression').textContent = data.seed_lhs + ' = ' + data.seed;
  document.getElementById('arriving').appendChild(make('div', '', 'The seed: backward starts at ' + data.root +
      '. Press next (\u2192) to run the backward pass one node at a time, in the engine\'s order.'));
}

function showStep(k) {
  if (k === 0) return showStart();
  var s = data.steps[k - 1];
  document.getElementById('step-title').textContent = 'Step ' + k + ' of ' + N + ': ' + s.label;
  document.getElementById('expression').textContent = s.expression;
  showArriving(s);
  showRule(s);
  showNumbers(s);
  showInputs(s);
}

function showInfo(id) {
  var t = tensors[id], box = emptied('info'), st = gradsAfter(current)[id];
  var grad = t.kind === 'constant' ? t.grad : st ? (st.complete ? t.grad : st.text + '  (' + st.of + ' so far)') : 'not computed yet';
  [['name', t.label + '  (' + t.kind + ')'], ['shape', t.shape], ['dtype', t.dtype], ['value', t.value], ['gradient', grad]].forEach(function (row) {
    var d = make('div', 'math');
    d.appendChild(make('b', '', row[0] + ': '));
    d.appendChild(document.createTextNode(row[1]));
    box.appendChild(d);
  });
  box.setAttribute('data-tensor', t.label);
}

function go(k, keepHash) {
  k = Math.max(0, Math.min(N, k));
  current = k;
  paintGraph(k);
  showStep(k);
  if (selected) showInfo(selected);
  document.getElementById('step-number').textContent = String(k);
  document.getElementById('prev').disabled = document.getElementById('first').disabled = k === 0;
  document.getElementById('next').disabled = document.getElementById('last').disabled = k === N;
  if (!keepHash && location.hash !== '#step=' + k) {
    try { history.replaceState(null, '', '#step=' + k); } catch (e) { location.hash = 'step=' + k; }
  }
}

function stepFromHash() {
  var m = /step=(\d+)/.exec(location.hash);
  return m ? Number(m[1]) : 0;
}

function play() {
  var button = document.getElementById('play');
  if (timer) { clearInterval(timer); timer = null; button.textContent = '\u25b6 play'; return; }
  if (current === N) go(0);
  button.textContent = '\u23f8 pause';
  timer = setInterval(function () { if (current >= N) play(); else go(current + 1); }, Number(document.getElementById('speed').value));
}

// The whole graph scaled to the window, or back to its own size (scrolled to the current node).
function fit() {
  var graph = document.getElementById('graph');
  graph.classList.toggle('fit');
  document.getElementById('fit').textContent = graph.classList.contains('fit') ? 'actual size' : 'fit';
  go(current, true);
}

function wire() {
  document.getElementById('first').onclick = function () { go(0); };
  document.getElementById('prev').onclick = function () { go(current - 1); };
  document.getElementById('next').onclick = function () { go(current + 1); };
  document.getElementById('last').onclick = function () { go(N); };
  document.getElementById('play').onclick = play;
  document.getElementById('fit').onclick = fit;
  document.getElementById('speed').onchange = function () { if (timer) { play(); play(); } };
  document.addEventListener('keydown', function (e) {
    var keys = { ArrowRight: 1, ArrowDown: 1, PageDown: 1, ' ': 1, ArrowLeft: -1, ArrowUp: -1, PageUp: -1 };
    if (e.target.tagName === 'SELECT') return;
    if (keys[e.key]) { go(current + keys[e.key]); e.preventDefault(); }
    else if (e.key === 'Home') go(0);
    else if (e.key === 'End') go(N);
    else if (e.key === 'p') play();
    else if (e.key === 'f') fit();
  });
  window.addEventListener('hashchange', function () { if (stepFromHash() !== current) go(stepFromHash(), true); });
  Object.keys(nodes).forEach(function (id) {
    if (!tensors[id]) return;
    nodes[id].addEventListener('mouseenter', function () { showInfo(id); });
    nodes[id].addEventListener('click', function () {
      if (selected && nodes[selected]) nodes[selected].classList.remove('selected');
      selected = id;
      nodes[id].classList.add('selected');
      showInfo(id);
    });
  });
}

document.getElementById('step-count').textContent = String(N);
wire();
go(stepFromHash(), true);
document.documentElement.setAttribute('data-ready', '1');
}
)JS";

}  // namespace

const char* page_script() { return kScript; }

}  // namespace ag::viz
