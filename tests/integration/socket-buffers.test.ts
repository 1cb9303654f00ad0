import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startTestNode } from '../helpers/node.js';

/** The kernel's SndbufErrors/RcvbufErrors for UDP in this namespace. */
const snmp = () => {
  const [names, values] = fs.readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:')).map((l) => l.split(/\s+/));
  return { send: Number(values[names.indexOf('SndbufErrors')]), receive: Number(values[names.indexOf('RcvbufErrors')]) };
};

describe('media socket buffers', () => {
  it('sizes the worker\'s shared UDP socket as configured, and /metrics reports the kernel\'s buffer drops', async () => {
    const port = 46_520;
    const t = await startTestNode({ media: { webRtcServerBasePort: port, socketSendBufferBytes: 150_000, socketRecvBufferBytes: 100_000 } });
    try {
      // ss shows the socket's memory limits: the kernel doubles what was set (its bookkeeping).
      const listing = execFileSync('ss', ['-uanm', `sport = :${port}`], { encoding: 'utf8' });
      expect(listing).toMatch(/skmem:\(r\d+,rb200000,t\d+,tb300000,/);

      const before = snmp();
      const text = await (await fetch(`${t.http}/metrics`)).text();
      const send = Number(/^sfu_udp_send_buffer_errors_total (\d+)$/m.exec(text)?.[1]);
      const receive = Number(/^sfu_udp_receive_buffer_errors_total (\d+)$/m.exec(text)?.[1]);
      expect(send).toBeGreaterThanOrEqual(before.send);
      expect(send).toBeLessThanOrEqual(snmp().send);
      expect(receive).toBeGreaterThanOrEqual(before.receive);
      expect(receive).toBeLessThanOrEqual(snmp().receive);
    } finally {
      await t.close();
    }
  });
});
