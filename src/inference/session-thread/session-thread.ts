import { parentPort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { SessionReply, SessionRequest } from './session-messages';
import { bestIdsOf, buffersOf, fromWire, keepLastPositions, toWire } from './wire-tensors';

/**
 * The worker thread that owns one onnxruntime session (see ThreadedSession). onnxruntime-node runs every
 * `run` synchronously on the thread that calls it, so it runs here, and the service's event loop keeps
 * answering probes, scrapes and other requests during a forward pass. Outputs go back transferred, not copied.
 */
let session: ort.InferenceSession | undefined;

const port = parentPort;
if (!port) throw new Error('session-thread runs as a worker thread only');

port.on('message', (request: SessionRequest) => {
  handle(request).then(
    ({ reply, transfer }) => port.postMessage(reply, transfer),
    (error: unknown) => port.postMessage({ id: request.id, ok: false, message: error instanceof Error ? error.message : String(error) } satisfies SessionReply),
  );
});

async function handle(request: SessionRequest): Promise<{ reply: SessionReply; transfer: ArrayBuffer[] }> {
  switch (request.kind) {
    case 'create': {
      session = await ort.InferenceSession.create(request.onnxPath, request.options);
      const { inputNames, outputNames, inputMetadata, outputMetadata } = session;
      return { reply: { id: request.id, ok: true, description: { inputNames, outputNames, inputMetadata, outputMetadata } }, transfer: [] };
    }
    case 'run': {
      if (!session) throw new Error('no session');
      const wire = toWire(await session.run(fromWire(request.feeds)));
      if (!request.keepLast) return { reply: { id: request.id, ok: true, outputs: wire }, transfer: buffersOf(wire) };
      keepLastPositions(wire, request.keepLast);
      const best = bestIdsOf(wire[request.keepLast.output]);
      return { reply: { id: request.id, ok: true, outputs: wire, bestIds: best }, transfer: [...buffersOf(wire), best.buffer as ArrayBuffer] };
    }
    case 'release':
      await session?.release();
      session = undefined;
      return { reply: { id: request.id, ok: true }, transfer: [] };
  }
}
