import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NotifierReceiver, ReceivedAlert } from '@trellis/plugin-sdk/testing';
import { verifySignature } from '../src/index';

/** How the receiver answers one request: a status with headers and a body, or no answer at all until it closes. */
export type PlannedAnswer = { status: number; headers?: Record<string, string>; body?: string } | 'hang';

/** A request as it arrived, and whether its signature held. */
export interface ArrivedRequest {
  headers: IncomingHttpHeaders;
  body: string;
  signed: boolean;
}

/** A webhook receiver on node:http that checks each request's signature as the README tells receivers to. */
export interface SignedReceiver extends NotifierReceiver {
  /** Where it listens; the path stands for the secret path many webhooks have. */
  url: string;
  /** Every request that arrived, accepted or not, in order. */
  arrived: ArrivedRequest[];
  /** Answers the next requests with these, in order, then accepts again. */
  plan(...answers: PlannedAnswer[]): void;
  /** Resolves once `count` requests have arrived. */
  arrivals(count: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts a receiver that verifies signatures with `secret`: 401 for a bad one, 204 (or what is planned) for a good one. */
export async function startSignedReceiver(secret: string): Promise<SignedReceiver> {
  const accepted: ReceivedAlert[] = [];
  const arrived: ArrivedRequest[] = [];
  const planned: PlannedAnswer[] = [];
  const events = new EventEmitter();
  let refusing: string | undefined;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const check = verifySignature(secret, request.headers['trellis-signature'] as string | undefined, body);
      arrived.push({ headers: request.headers, body: body.toString('utf8'), signed: check.valid });
      events.emit('arrived');
      if (!check.valid) return void response.writeHead(401).end(check.message);
      if (refusing !== undefined) return void response.writeHead(500).end(refusing);
      const answer = planned.shift() ?? { status: 204 };
      if (answer === 'hang') return;
      if (answer.status < 300) accepted.push(JSON.parse(body.toString('utf8')) as ReceivedAlert);
      answerWith(response, answer);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/s3cr3t-path`,
    arrived,
    received: () => [...accepted],
    refuse: (reason) => void (refusing = reason),
    plan: (...answers) => void planned.push(...answers),
    arrivals: async (count) => {
      while (arrived.length < count) await once(events, 'arrived');
    },
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function answerWith(response: ServerResponse, { status, headers = {}, body = '' }: { status: number; headers?: Record<string, string>; body?: string }): void {
  response.writeHead(status, headers).end(body);
}
