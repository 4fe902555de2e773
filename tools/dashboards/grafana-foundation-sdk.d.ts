// The project's tsconfig resolves modules the `node10` way, which ignores package.json "exports"; the
// Grafana Foundation SDK publishes its entry points only there (`@grafana/grafana-foundation-sdk/dashboard`
// -> dist/dashboard). These declarations point the type checker at the same files Node loads at run time.
// Harmless under `node16`/`bundler` resolution, where the real entry points resolve first.
declare module '@grafana/grafana-foundation-sdk/common' {
  export * from '@grafana/grafana-foundation-sdk/dist/common';
}
declare module '@grafana/grafana-foundation-sdk/dashboard' {
  export * from '@grafana/grafana-foundation-sdk/dist/dashboard';
}
declare module '@grafana/grafana-foundation-sdk/prometheus' {
  export * from '@grafana/grafana-foundation-sdk/dist/prometheus';
}
declare module '@grafana/grafana-foundation-sdk/timeseries' {
  export * from '@grafana/grafana-foundation-sdk/dist/timeseries';
}
declare module '@grafana/grafana-foundation-sdk/stat' {
  export * from '@grafana/grafana-foundation-sdk/dist/stat';
}
declare module '@grafana/grafana-foundation-sdk/piechart' {
  export * from '@grafana/grafana-foundation-sdk/dist/piechart';
}
declare module '@grafana/grafana-foundation-sdk/table' {
  export * from '@grafana/grafana-foundation-sdk/dist/table';
}
