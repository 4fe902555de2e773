import { parentPort } from 'node:worker_threads';
import { ort } from '../onnxruntime';
import { readRewritten } from '../model-rewrites';
import { ResidentTensors } from './resident-tensors';
import { RunRequest, SessionReply, SessionRequest, WireTensors } from './session-messages';
import { bestIdsOf, buffersOf, fromWire, gatherIds, keepLastPositions, toWire } from './wire-tensors';

/**
 * The worker thread that owns one onnxruntime session (see ThreadedSession). onnxruntime-node runs every
 * `run` synchronously on the thread that calls it, so it runs here, and the service's event loop keeps
 * answering probes, scrapes and other requests during a forward pass. KV caches stay here as resident
 * tensors; outputs that go back are transferred, not copied.
 */
let session: ort.InferenceSession | undefined;
const residents = new ResidentTensors();

const port = parentPort;
if (!port) throw new Error('session-thread runs as a worker thread only');

port.on('message', (request: SessionRequest) => {
  handle(request).then(
    ({ reply, transfer }) => port.postMessage(reply, transfer),
    (error: unknown) => port.postMessage({ id: request.id, ok: false, message: error instanceof Error ? error.message : String(error) } satisfies SessionReply),
  );
});

type Handled = { reply: SessionReply; transfer: ArrayBuffer[] };

async function handle(request: SessionRequest): Promise<Handled> {
  const done = (reply: Omit<SessionReply & { ok: true }, 'id' | 'ok'> = {}): Handled => ({ reply: { id: request.id, ok: true, ...reply }, transfer: [] });
  switch (request.kind) {
    case 'create': {
      const { rewritten, skipped, applied } = readRewritten(request.onnxPath, request.rewrites);
      session = rewritten
        ? // From memory, onnxruntime finds the external weights through this folder.
          await ort.InferenceSession.create(rewritten.model, {
            ...request.options,
            extra: { session: { model_external_initializers_file_folder_path: rewritten.externalDataFolder } },
          })
        : await ort.InferenceSession.create(request.onnxPath, request.options);
      const { inputNames, outputNames, inputMetadata, outputMetadata } = session;
      return done({
        description: { inputNames, outputNames, inputMetadata, outputMetadata, rewriteSkipped: skipped, applied },
      });
    }
    case 'run': {
      const { outputs, bestIds, handle } = await run(request);
      const transfer = [...buffersOf(outputs), ...(bestIds ? [bestIds.buffer as ArrayBuffer] : [])];
      return { reply: { id: request.id, ok: true, outputs, ...(bestIds && { bestIds }), ...(handle !== undefined && { handle }) }, transfer };
    }
    case 'tile':
      return done({ handle: residents.tile(request.handle, request.rows) });
    case 'truncate':
      return done({ handle: residents.truncate(request.handle, request.length) });
    case 'drop':
      residents.drop(request.handle);
      return done();
    case 'count-resident':
      return done({ residentCount: residents.count });
    case 'release':
      await session?.release();
      session = undefined;
      return done();
  }
}

async function run(request: RunRequest): Promise<{ outputs: WireTensors; bestIds?: Int32Array; handle?: number }> {
  if (!session) throw new Error('no session');
  const { resident, keep, keepLast } = request;
  let outputs: ort.InferenceSession.OnnxValueMapType;
  try {
    outputs = await session.run({ ...fromWire(request.feeds), ...(resident && residents.get(resident.handle)) });
  } finally {
    // Released whether the run succeeded or not: the caller will not feed this set again either way.
    if (resident?.release) residents.drop(resident.handle);
  }
  const sent = { ...outputs } as Record<string, ort.Tensor>;
  let handle: number | undefined;
  if (keep) {
    const kept: Record<string, ort.Tensor> = {};
    for (const [output, input] of Object.entries(keep)) {
      kept[input] = sent[output];
      delete sent[output];
    }
    handle = residents.keep(kept);
  }
  const wire = toWire(sent);
  if (!keepLast) return { outputs: wire, handle };
  keepLastPositions(wire, keepLast);
  const bestIds = bestIdsOf(wire[keepLast.output]);
  if (keepLast.ids) wire[keepLast.output] = gatherIds(wire[keepLast.output], keepLast.ids);
  return { outputs: wire, bestIds, handle };
}
