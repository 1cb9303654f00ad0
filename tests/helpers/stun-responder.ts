import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';

const MAGIC = 0x2112a442;
let started: Promise<number> | undefined;

/**
 * A minimal STUN binding responder on 127.0.0.1. werift falls back to a public STUN server
 * when none is configured; pointing it here keeps every test packet on loopback and answers
 * in microseconds instead of a 5 s gathering timeout.
 */
export function loopbackStunPort(): Promise<number> {
  started ??= new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    socket.on('message', (msg, from) => {
      if (msg.length < 20 || msg.readUInt16BE(0) !== 0x0001 || msg.readUInt32BE(4) !== MAGIC) return;
      const res = Buffer.alloc(32);
      res.writeUInt16BE(0x0101, 0); // binding success
      res.writeUInt16BE(12, 2);
      msg.copy(res, 4, 4, 20); // cookie + transaction id
      res.writeUInt16BE(0x0020, 20); // XOR-MAPPED-ADDRESS
      res.writeUInt16BE(8, 22);
      res.writeUInt16BE(0x0001, 24);
      res.writeUInt16BE(from.port ^ (MAGIC >>> 16), 26);
      const ip = from.address.split('.').reduce((a, o) => (a << 8) + Number(o), 0) >>> 0;
      res.writeUInt32BE((ip ^ MAGIC) >>> 0, 28);
      socket.send(res, from.port, from.address);
    });
    socket.bind(0, '127.0.0.1', () => {
      socket.unref();
      resolve((socket.address() as AddressInfo).port);
    });
  });
  return started;
}
