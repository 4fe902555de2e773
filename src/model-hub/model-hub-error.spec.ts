import { HubApiError } from '@huggingface/hub';
import { explainHubFailure, HubRequestContext, ModelHubError } from './model-hub-error';

const context: HubRequestContext = { repoId: 'owner/model', revision: 'main', endpoint: 'https://hub.example', withToken: false };

function apiError(statusCode: number): HubApiError {
  const error = new HubApiError('https://hub.example/api/models/owner/model', statusCode);
  error.message = `Api error with status ${statusCode}`;
  return error;
}

describe('explainHubFailure', () => {
  it('asks for a token on a 401 without one, and questions the token with one', () => {
    expect(explainHubFailure(apiError(401), context).message).toMatch(/needs a token \(401\): set HF_TOKEN/);
    expect(explainHubFailure(apiError(401), { ...context, withToken: true }).message).toMatch(/refused the token for owner\/model \(401\)/);
  });

  it('points at gating on a 403 and names the revision on a 404', () => {
    expect(explainHubFailure(apiError(403), context).message).toMatch(/accept the model's conditions/);
    expect(explainHubFailure(apiError(404), context).message).toBe('owner/model at revision main was not found on https://hub.example (404)');
  });

  it('names the endpoint and the cause when the Hub cannot be reached', () => {
    const failure = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    expect(explainHubFailure(failure, context).message).toMatch(/^cannot reach the Hugging Face Hub at https:\/\/hub.example \(ECONNREFUSED\).*HF_HUB_OFFLINE/);
  });

  it('keeps its own errors and the cause of others', () => {
    const own = new ModelHubError('already explained');
    expect(explainHubFailure(own, context)).toBe(own);
    const other = new Error('disk full');
    expect(explainHubFailure(other, context)).toMatchObject({ message: 'disk full', cause: other });
  });
});
