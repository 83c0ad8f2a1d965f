// "Forgot your password?" in a real browser: from the sign-in page a person asks for a link,
// the mail arrives at a tiny SMTP sink started here (roster is pointed at it through
// ROSTER_SMTP_URL), its link sets a new password once, and a second use is refused. At phone
// width and without script the form works the same; a server without SMTP says whom to ask.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { DEMO, assertNoSidewaysScroll, eventually, launchBrowser, scenario, signIn } from './harness.mjs';

const NEW_PASSWORD = 'a brand new long password';
const ON_ITS_WAY = 'If an account uses that address, a link to set a new password is on its way.';
const PHONE = { width: 390, height: 844 };

/** Accepts SMTP sessions on a free loopback port and keeps each message's DATA. */
function smtpSink() {
  const messages = [];
  const server = net.createServer((socket) => {
    let buffered = '';
    let data = null; // the message being received, between DATA and "."
    socket.write('220 sink ESMTP\r\n');
    socket.on('data', (chunk) => {
      buffered += chunk.toString('utf8');
      let end;
      while ((end = buffered.indexOf('\r\n')) >= 0) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        if (data !== null) {
          if (line === '.') {
            messages.push(data);
            data = null;
            socket.write('250 queued\r\n');
          } else {
            data += `${line.startsWith('..') ? line.slice(1) : line}\n`;
          }
          continue;
        }
        const verb = line.split(' ')[0].toUpperCase();
        if (verb === 'DATA') {
          data = '';
          socket.write('354 end with .\r\n');
        } else if (verb === 'QUIT') {
          socket.end('221 bye\r\n');
        } else {
          socket.write(verb === 'EHLO' || verb === 'HELO' ? '250 sink\r\n' : '250 ok\r\n');
        }
      }
    });
    socket.on('error', () => {});
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ port: server.address().port, messages, close: () => server.close() }));
  });
}

/** A message as a mail client shows it: headers unfolded, quoted-printable decoded. */
function readable(raw) {
  return raw
    .replace(/\n[ \t]+/g, ' ')
    .replace(/=\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
}

/** Waits for the one message to `email`; returns the set-password link in it. */
async function linkMailedTo(sink, email) {
  const mail = await eventually(() => {
    const found = sink.messages.map(readable).filter((m) => m.includes(`To: ${email}`));
    assert.equal(found.length, 1, `one message to ${email}`);
    return found[0];
  });
  const link = mail.split('\n').find((l) => l.startsWith('http'));
  assert.ok(link, `a link in the mail:\n${mail}`);
  return link.trim();
}

let browser;
let sink;
before(async () => {
  browser = await launchBrowser();
  sink = await smtpSink();
});
after(async () => {
  await browser?.close();
  sink?.close();
});

/** A scenario on a demo server that mails through the sink (`smtp`) or sends no mail. */
function story(name, { smtp, ...options }, body) {
  test(name, { timeout: 90_000 }, async (t) => {
    // startRoster passes this process's environment on to the server it starts.
    if (smtp) process.env.ROSTER_SMTP_URL = `smtp://127.0.0.1:${sink.port}`;
    else delete process.env.ROSTER_SMTP_URL;
    try {
      await scenario(() => browser, name, options, body)(t);
    } finally {
      delete process.env.ROSTER_SMTP_URL;
    }
  });
}

/** Fills the forgot-password form with `email` and sends it; resolves on the answer. */
async function askForLink(page, email) {
  await page.getByLabel('Email').fill(email);
  await Promise.all([
    page.waitForURL((url) => url.pathname === '/user/forgot-password'),
    page.getByRole('button', { name: 'Mail me a link' }).click(),
  ]);
  await page.getByRole('heading', { name: 'Check your mail' }).waitFor();
  assert.ok((await page.locator('main').innerText()).includes(ON_ITS_WAY));
}

story('forgot-password mails a link that works once', { smtp: true }, async ({ page, server, shot }) => {
  await page.goto('/user/login');
  await shot('desktop-sign-in');
  await Promise.all([
    page.waitForURL((url) => url.pathname === '/user/forgot-password'),
    page.getByRole('link', { name: 'Forgot your password?' }).click(),
  ]);
  await page.getByRole('heading', { name: 'Forgot your password?' }).waitFor();
  await shot('desktop-form');

  await askForLink(page, DEMO.anna);
  await shot('desktop-on-its-way');
  const link = await linkMailedTo(sink, DEMO.anna);
  assert.ok(link.startsWith(`${server.baseURL}/user/set-password?token=`), link);

  await page.goto(link);
  await page.getByRole('heading', { name: 'Set your password' }).waitFor();
  await shot('desktop-set-password');
  await page.getByLabel('New password (at least 8 characters)').fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Set password' }).click();
  await page.getByRole('heading', { name: 'Password set' }).waitFor();
  await shot('desktop-password-set');

  await signIn(page, DEMO.anna, NEW_PASSWORD);
  const again = await page.goto(link);
  assert.equal(again.status(), 404);
  assert.match(await page.locator('main').innerText(), /expired or was already used/);
  await shot('desktop-used-link');
  await Promise.all([
    page.waitForURL((url) => url.pathname === '/user/forgot-password'),
    page.getByRole('link', { name: 'Ask for a new link' }).click(),
  ]);
});

story('at phone width and without script the form asks for a link the same way', { smtp: true, viewport: PHONE, javaScriptEnabled: false }, async ({ page, shot }) => {
  await page.goto('/user/forgot-password');
  await assertNoSidewaysScroll(page);
  await shot('phone-form');
  // An unknown address gets the same answer, and no mail.
  await askForLink(page, 'nobody@demo.roster');
  await assertNoSidewaysScroll(page);
  await shot('phone-on-its-way');
  await page.goto('/user/forgot-password');
  await askForLink(page, DEMO.alan);
  await linkMailedTo(sink, DEMO.alan);
  assert.equal(sink.messages.filter((m) => m.includes('To: nobody@demo.roster')).length, 0);
});

story('without SMTP the page says to ask an administrator', { smtp: false, viewport: PHONE }, async ({ page, shot }) => {
  await page.goto('/user/login');
  await Promise.all([
    page.waitForURL((url) => url.pathname === '/user/forgot-password'),
    page.getByRole('link', { name: 'Forgot your password?' }).click(),
  ]);
  const notice = page.getByRole('status');
  assert.match(await notice.innerText(), /Password reset by email is not set up on this server: ask an administrator of your organization or the server's operator/);
  assert.equal(await page.getByLabel('Email').count(), 0, 'no form that cannot work');
  await assertNoSidewaysScroll(page);
  await shot('phone-ask-an-administrator');
});
