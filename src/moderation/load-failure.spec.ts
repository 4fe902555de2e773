import { ErrorCode } from '../common/error-code';
import { toErrorReply } from '../common/error-reply.mapper';
import { EngineError, EngineErrorCode } from '../inference';
import { loadFailureException, loadFailureOf, publicReason } from './load-failure';

describe('load failure', () => {
  it('keeps the engine code for a provider, MODEL_INVALID for everything else', () => {
    expect(loadFailureOf(new EngineError(EngineErrorCode.ProviderUnavailable, 'CUDA could not load')).code).toBe(ErrorCode.ProviderUnavailable);
    expect(loadFailureOf(new EngineError(EngineErrorCode.ModelInvalid, 'no config.json')).code).toBe(ErrorCode.ModelInvalid);
    expect(loadFailureOf(new RangeError('out of memory')).code).toBe(ErrorCode.ModelInvalid);
  });

  it('gives the reason on one line with file names, not the paths above them', () => {
    expect(
      publicReason(
        'onnxruntime could not load /home/alice/models/x/onnx/model.onnx: Load model from /home/alice/models/x/onnx/model.onnx failed:\n  Protobuf parsing failed.',
      ),
    ).toBe('onnxruntime could not load model.onnx: Load model from model.onnx failed: Protobuf parsing failed.');
    expect(publicReason('model directory /srv/secret-store/model does not exist')).toBe('model directory model does not exist');
    expect(publicReason('C:\\Users\\bob\\model\\config.json is not valid JSON')).toBe('config.json is not valid JSON');
    expect(publicReason('no ONNX file for dtype fp16 (looked for onnx/model_fp16.onnx)')).toBe('no ONNX file for dtype fp16 (looked for onnx/model_fp16.onnx)');
    expect(publicReason('x'.repeat(1000))).toHaveLength(303);
  });

  it('answers 503 with its code and reason and no Retry-After: retrying cannot help', () => {
    const reply = toErrorReply(loadFailureException({ code: ErrorCode.ModelInvalid, reason: 'config.json is not valid JSON' }), {
      method: 'POST',
      url: '/predict',
    });
    expect(reply.status).toBe(503);
    expect(reply.retryAfterSeconds).toBeUndefined();
    expect(reply.body).toMatchObject({ code: 'MODEL_INVALID', message: expect.stringMatching(/failed to load.*config\.json is not valid JSON$/) });
  });
});
