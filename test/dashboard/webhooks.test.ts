// The staff Webhooks page in a real browser, against the real app and a real receiver on loopback.
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deliverDue } from '../../src/webhooks/webhook.worker.js';
import { startReceiver, type Receiver } from '../webhook-receiver.js';
import { describeInBrowser, startDashboard, type Dashboard } from './harness.js';

describeInBrowser('the Webhooks page in Chromium', () => {
  let d: Dashboard;
  let receiver: Receiver;

  beforeAll(async () => {
    d = await startDashboard({ HELPDESK_WEBHOOK_ALLOW_HTTP: '1', HELPDESK_WEBHOOK_ALLOW_PRIVATE: '1' });
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
    await d?.close();
  });

  // The worker of a running server, one round at a time.
  const deliver = () => deliverDue(d.t.db, { allowPrivate: true, concurrency: 4 });

  it('adds an endpoint showing its secret once, sends a test, lists the delivery and retries it', async () => {
    const page = await d.signIn(/Sam/);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    await page.getByText('No endpoints yet.').waitFor();
    await d.checkPage(page, 'webhooks-empty');

    // A refused URL is said next to its field.
    await page.getByLabel('URL').fill('ftp://example.com/hook');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page.locator('#webhook-url-error').waitFor();
    expect(await page.locator('#webhook-url-error').textContent()).toBe('expected an http:// or https:// URL');

    await page.getByLabel('URL').fill(receiver.url);
    await page.getByLabel('Description').fill('CRM sync');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page.getByRole('heading', { name: `Signing secret for ${receiver.url}` }).waitFor();
    const secret = (await page.getByLabel('Signing secret', { exact: true }).textContent()) ?? '';
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    await page.getByRole('button', { name: 'Copy secret' }).click();
    await page.getByRole('status').filter({ hasText: 'Copied' }).waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(secret);
    await d.checkPage(page, 'webhooks-secret');
    await page.getByRole('button', { name: 'Done' }).click();
    // Gone once dismissed: no other page shows it.
    expect(await page.getByText(secret).count()).toBe(0);
    await page.reload();
    await page.getByRole('heading', { name: receiver.url, level: 3 }).waitFor();
    expect(await page.getByText(secret).count()).toBe(0);

    await page.getByRole('button', { name: 'Recent deliveries' }).click();
    await page.getByText('No deliveries yet.').waitFor();
    await page.getByRole('button', { name: 'Send test' }).click();
    await page.getByRole('cell', { name: 'Not yet sent' }).waitFor();
    expect(await deliver()).toBe(1);
    await page.getByRole('cell', { name: /^HTTP 200, \d+ ms \(1 attempt\)$/ }).waitFor();
    expect(await page.getByRole('row', { name: /webhook\.test/ }).textContent()).toContain('Succeeded');
    const [first] = receiver.received;
    expect(new Webhook(secret).verify(first?.body ?? '', first?.headers as Record<string, string>)).toMatchObject({ type: 'webhook.test' });
    await d.checkPage(page, 'webhooks-deliveries');

    // A retry sends the same event again.
    await page.getByRole('button', { name: 'Retry webhook.test' }).click();
    await page.getByRole('row', { name: /webhook\.test/ }).filter({ hasText: 'Pending' }).waitFor();
    expect(await deliver()).toBe(1);
    await page.getByRole('cell', { name: /\(2 attempts\)$/ }).waitFor();
    expect(receiver.received.map((r) => r.headers['webhook-id'])).toEqual([first?.headers['webhook-id'], first?.headers['webhook-id']]);
  });
});
