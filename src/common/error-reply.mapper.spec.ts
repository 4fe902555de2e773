import { BadRequestException, HttpException, NotFoundException, PayloadTooLargeException } from '@nestjs/common';
import { EngineError, EngineErrorCode } from '../inference';
import { ApiException } from './api-exception';
import { ERROR_STATUS, ErrorCode } from './error-code';
import { MODEL_NOT_READY_RETRY_AFTER_SECONDS, toErrorReply } from './error-reply.mapper';

const REQUEST = { method: 'POST', url: '/predict?token=private' };

/** What Nest 12 hands the filter for a Fastify error: an HttpException whose cause is the FastifyError. */
function fastifyError(code: string, statusCode: number): HttpException {
  const cause = Object.assign(new Error('Body is not valid JSON but content-type is set to application/json: "secret"'), {
    name: 'FastifyError',
    code,
    statusCode,
  });
  return new HttpException(cause.message, statusCode, { cause });
}

describe('toErrorReply', () => {
  it('maps an ApiException through the status table, keeping its field', () => {
    const reply = toErrorReply(new ApiException(ErrorCode.ValidationFailed, 'text must be a string', { field: 'text' }), REQUEST);
    expect(reply).toEqual({
      status: 400,
      body: { statusCode: 400, error: 'Bad Request', code: 'VALIDATION_FAILED', message: 'text must be a string', field: 'text' },
    });
  });

  it('leaves the field out when there is none', () => {
    expect(toErrorReply(new ApiException(ErrorCode.ValidationFailed, 'x'), REQUEST).body).not.toHaveProperty('field');
  });

  it('answers TEXT_TOO_LONG with 413', () => {
    expect(toErrorReply(new ApiException(ErrorCode.TextTooLong, 'text is too long', { field: 'text' }), REQUEST).status).toBe(413);
  });

  it.each([
    [EngineErrorCode.ModelNotReady, 503, 'the model is not ready yet; retry later'],
    [EngineErrorCode.ModelInvalid, 503, 'the model could not be loaded'],
    [EngineErrorCode.ProviderUnavailable, 503, 'the execution provider could not be loaded'],
    [EngineErrorCode.InferenceFailed, 500, 'inference failed'],
  ])('hides the engine message of %s behind a fixed one (%i)', (code, status, message) => {
    const reply = toErrorReply(new EngineError(code, 'onnxruntime failed at /models/x: detail'), REQUEST);
    expect(reply.status).toBe(status);
    expect(reply.body).toEqual({ statusCode: status, error: expect.any(String), code, message });
  });

  it('passes on the engine message of INPUT_TOO_LONG (413) and ENGINE_OUTPUT_UNPARSEABLE (502)', () => {
    const tooLong = toErrorReply(new EngineError(EngineErrorCode.InputTooLong, 'the conversation takes 9000 tokens'), REQUEST);
    expect(tooLong).toMatchObject({ status: 413, body: { code: 'INPUT_TOO_LONG', message: 'the conversation takes 9000 tokens' } });
    const unparseable = toErrorReply(new EngineError(EngineErrorCode.UnparseableOutput, 'no Safety line'), REQUEST);
    expect(unparseable).toMatchObject({ status: 502, body: { code: 'ENGINE_OUTPUT_UNPARSEABLE', error: 'Bad Gateway' } });
  });

  it('asks for a retry only while the model is not ready, and does not log it per request', () => {
    const notReady = toErrorReply(new EngineError(EngineErrorCode.ModelNotReady, 'loading'), REQUEST);
    expect(notReady.retryAfterSeconds).toBe(MODEL_NOT_READY_RETRY_AFTER_SECONDS);
    expect(notReady.logMessage).toBeUndefined();
    expect(toErrorReply(new EngineError(EngineErrorCode.InferenceFailed, 'x'), REQUEST).retryAfterSeconds).toBeUndefined();
  });

  it('logs server-side failures with the engine detail and the path without its query', () => {
    const reply = toErrorReply(new EngineError(EngineErrorCode.InferenceFailed, 'onnxruntime failed: OOM'), REQUEST);
    expect(reply.logMessage).toBe('POST /predict -> 500 INFERENCE_FAILED: onnxruntime failed: OOM');
  });

  it('does not log client errors', () => {
    expect(toErrorReply(new ApiException(ErrorCode.ValidationFailed, 'x'), REQUEST).logMessage).toBeUndefined();
  });

  it.each([
    ['FST_ERR_CTP_INVALID_JSON_BODY', 400, 400, 'INVALID_JSON'],
    ['FST_ERR_CTP_EMPTY_JSON_BODY', 400, 400, 'INVALID_JSON'],
    ['FST_ERR_CTP_BODY_TOO_LARGE', 413, 413, 'PAYLOAD_TOO_LARGE'],
    ['FST_ERR_CTP_INVALID_MEDIA_TYPE', 415, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['FST_ERR_CTP_INVALID_CONTENT_LENGTH', 400, 400, 'BAD_REQUEST'],
  ])('maps Fastify %s to %i %s... without echoing the body', (code, fastifyStatus, status, errorCode) => {
    const reply = toErrorReply(fastifyError(code, fastifyStatus), REQUEST);
    expect(reply.status).toBe(status);
    expect(reply.body.code).toBe(errorCode);
    expect(reply.body.message).not.toContain('secret');
  });

  it('names method and path, not the query, for an unknown route', () => {
    const reply = toErrorReply(new NotFoundException('Cannot POST /predict?token=private'), REQUEST);
    expect(reply.body).toEqual({ statusCode: 404, error: 'Not Found', code: 'NOT_FOUND', message: 'no route for POST /predict' });
  });

  it('maps other HttpExceptions by status', () => {
    expect(toErrorReply(new PayloadTooLargeException(), REQUEST).body.code).toBe('PAYLOAD_TOO_LARGE');
    expect(toErrorReply(new BadRequestException('anything'), REQUEST).body).toMatchObject({ code: 'BAD_REQUEST', message: 'Bad Request' });
    expect(toErrorReply(new HttpException('boom', 500), REQUEST).body.code).toBe('INTERNAL_ERROR');
  });

  it('turns anything else into a 500 without its message or stack in the body', () => {
    const reply = toErrorReply(new TypeError('Cannot read properties of undefined (secret text)'), REQUEST);
    expect(reply.body).toEqual({ statusCode: 500, error: 'Internal Server Error', code: 'INTERNAL_ERROR', message: 'internal error' });
    expect(reply.logMessage).toBe('POST /predict -> 500 INTERNAL_ERROR: TypeError: Cannot read properties of undefined (secret text)');
    expect(reply.logMessage).not.toContain('    at ');
  });

  it('treats an engine code it does not know as an internal error', () => {
    const reply = toErrorReply(new EngineError('SOMETHING_NEW' as EngineErrorCode, 'detail'), REQUEST);
    expect(reply).toMatchObject({ status: 500, body: { code: 'INTERNAL_ERROR', message: 'internal error' } });
    expect(reply.logMessage).toContain('SOMETHING_NEW: detail');
  });

  it('survives a thrown non-error', () => {
    expect(toErrorReply('string thrown', REQUEST).status).toBe(500);
  });

  it('has a status for every code, and no client error above 499', () => {
    for (const code of Object.values(ErrorCode)) expect(ERROR_STATUS[code]).toBeGreaterThanOrEqual(400);
    for (const code of [
      ErrorCode.ValidationFailed,
      ErrorCode.InvalidJson,
      ErrorCode.UnsupportedMediaType,
      ErrorCode.PayloadTooLarge,
      ErrorCode.TextTooLong,
      ErrorCode.InputTooLong,
      ErrorCode.NotFound,
      ErrorCode.BadRequest,
    ]) {
      expect(ERROR_STATUS[code]).toBeLessThan(500);
    }
  });

  it('reuses the engine codes verbatim', () => {
    for (const code of Object.values(EngineErrorCode)) expect(Object.values(ErrorCode)).toContain(code);
  });
});
