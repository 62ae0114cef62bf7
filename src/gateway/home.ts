/**
 * What a browser gets at `/`: a short page naming the endpoints, instead of
 * an API error for a request without Action. API clients never send
 * `Accept: text/html`, so they are not affected.
 */
import type { IncomingMessage } from 'node:http';

export function wantsHomePage(req: IncomingMessage, url: string): boolean {
  return req.method === 'GET' && (url === '/' || url === '/index.html') && /\btext\/html\b/.test(req.headers.accept ?? '');
}

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

export function homePage(host: string, version: string): { status: number; headers: Record<string, string>; body: string } {
  const base = escape(host);
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tclocal ${escape(version)}</title></head>
<body style="font-family: sans-serif; max-width: 46em; margin: 2em auto; line-height: 1.5">
<h1>tclocal ${escape(version)}</h1>
<p>A local emulator of Tencent Cloud APIs. Point an official SDK, <code>tccli</code> or Terraform at
<code>${base}</code> (https:// or http://): only the endpoint changes.</p>
<ul>
<li><b>API 3.0</b> (GAAP, SSL, AMS, Tag): <code>POST https://${base}/</code> with the SDK's usual signature,
e.g. <a href="/?Action=DescribeDestRegions&amp;Version=2018-05-29">/?Action=DescribeDestRegions&amp;Version=2018-05-29</a></li>
<li><b>Cloud Infinite</b> (COS-style XML): <code>&lt;bucket&gt;-&lt;appid&gt;.ci.&lt;region&gt;.myqcloud.com</code> hosts on this port</li>
<li><b>Admin</b>: <a href="/_tclocal/health">/_tclocal/health</a>, <a href="/_tclocal/coverage">/_tclocal/coverage</a>,
<code>POST /_tclocal/reset</code>, <code>POST /_tclocal/transitions/advance</code>, <code>GET|POST /_tclocal/state</code></li>
<li><b>HTTPS</b>: trust the local CA printed by <code>npx tclocal ca</code></li>
</ul>
<p>Settings, client set-up and known differences: the README (<code>README.md</code> in the tclocal package).</p>
</body></html>
`;
  return { status: 200, headers: { 'Content-Type': 'text/html; charset=utf-8' }, body };
}
