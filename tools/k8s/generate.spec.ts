import { findK8sDrift, MANIFESTS } from './generate';

describe('generated Kubernetes manifests', () => {
  it('committed k8s/base files are what tools/k8s generates (run `npm run k8s:generate` after a change)', () => {
    expect(findK8sDrift()).toEqual([]);
  });

  it('notices a file that differs from its sources', () => {
    // A root without the committed files: every manifest counts as drifted.
    expect(findK8sDrift('/nonexistent')).toEqual(MANIFESTS.map(({ file }) => file));
  });
});
