// Drives a backward page in headless chromium through the DevTools protocol over a pipe (no
// WebSocket, no npm package, no browser download): keys, buttons, reload, hover and play, as a
// teacher would use them. Prints one "key=value" line per observation; the C++ test judges them.
// Usage: node drive_page.js CHROMIUM PAGE.html PROFILE_DIR
'use strict';
const { spawn } = require('child_process');

const [chromium, page, profile] = process.argv.slice(2);
const url = 'file://' + page;
const browser = spawn(chromium, ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--remote-debugging-pipe', '--window-size=1600,900', '--user-data-dir=' + profile, 'about:blank'],
  { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] });
const toBrowser = browser.stdio[3], fromBrowser = browser.stdio[4];
const pending = new Map(), waiters = [], requests = [], exceptions = [];
let nextId = 1, buffer = '', session = null;

fromBrowser.on('data', (chunk) => {
  buffer += chunk.toString();
  let end;
  while ((end = buffer.indexOf('\0')) >= 0) {
    const message = JSON.parse(buffer.slice(0, end));
    buffer = buffer.slice(end + 1);
    received(message);
  }
});

function received(m) {
  if (m.id && pending.has(m.id)) {
    const { resolve, reject } = pending.get(m.id);
    pending.delete(m.id);
    if (m.error) reject(new Error(JSON.stringify(m.error))); else resolve(m.result);
    return;
  }
  if (m.method === 'Network.requestWillBeSent') requests.push(m.params.request.url);
  if (m.method === 'Runtime.exceptionThrown') exceptions.push(m.params.exceptionDetails.text);
  for (let i = waiters.length - 1; i >= 0; --i)
    if (waiters[i].method === m.method) { waiters[i].resolve(m.params); waiters.splice(i, 1); }
}

function send(method, params = {}) {
  const id = nextId++;
  const message = { id, method, params };
  if (session && !method.startsWith('Target.')) message.sessionId = session;
  toBrowser.write(JSON.stringify(message) + '\0');
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
}
const event = (method) => new Promise((resolve) => waiters.push({ method, resolve }));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function evaluate(expression) {
  const r = await send('Runtime.evaluate', { expression, returnByValue: true });
  return r.result.value;
}
const step = () => evaluate("document.getElementById('step-number').textContent");

async function key(name, code) {
  for (const type of ['keyDown', 'keyUp'])
    await send('Input.dispatchKeyEvent', { type, key: name, code: name, windowsVirtualKeyCode: code });
}

// Moves the mouse over a tensor's box in the picture, as a real pointer does.
async function hover(label) {
  const box = await evaluate(`(() => { const g = document.querySelector('#graph g.node[data-name="${label}"]');
    g.scrollIntoView({ block: 'center', inline: 'center' });
    const r = g.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()`);
  await send('Input.dispatchMouseEvent', { type: 'mouseMoved', x: box[0], y: box[1] });
  return evaluate("document.getElementById('info').innerText.replace(/\\n/g, ' | ')");
}

async function load(target) {
  const loaded = event('Page.loadEventFired');
  await send('Page.navigate', { url: target });
  await loaded;
}

async function waitForStep(want, ms) {
  for (let waited = 0; waited < ms; waited += 100) {
    if (await step() === want) return true;
    await sleep(100);
  }
  return false;
}

async function scenario(say) {
  await load(url + '#step=2');
  say('start', await step());
  await key('ArrowRight', 39);
  say('after-right', await step());
  say('hash-after-right', await evaluate('location.hash'));
  await evaluate("document.getElementById('prev').click()");
  await evaluate("document.getElementById('prev').click()");
  say('after-prev-twice', await step());
  const reloaded = event('Page.loadEventFired');
  await send('Page.reload');
  await reloaded;
  say('after-reload', await step());
  await key('End', 35);
  const last = await step();
  say('after-end', last);
  say('info-a', await hover('a'));
  await key('Home', 36);
  say('after-home', await step());
  await evaluate("document.getElementById('speed').value = '1000'; document.getElementById('play').click()");
  say('play-reached-last', await waitForStep(last, 15000));
  await sleep(1500);
  say('play-button-after', await evaluate("document.getElementById('play').textContent"));
  await load('about:blank');  // a fresh load: a fragment change alone would not reload
  await load(url + '#step=99');
  say('past-the-end', await step());
}

(async () => {
  const lines = [];
  const say = (k, v) => lines.push(k + '=' + v);
  const timeout = setTimeout(() => { console.log('error=timeout'); process.exit(2); }, 60000);
  try {
    const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
    session = (await send('Target.attachToTarget', { targetId, flatten: true })).sessionId;
    for (const domain of ['Page', 'Runtime', 'Network']) await send(domain + '.enable');
    await scenario(say);
  } catch (e) {
    say('error', e.message);
  }
  say('requests', requests.length + ' ' + requests.join(' '));
  say('exceptions', exceptions.length + ' ' + exceptions.join(' | '));
  clearTimeout(timeout);
  console.log(lines.join('\n'));
  browser.kill();
  process.exit(0);
})();
