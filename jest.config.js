// Unit specs live beside the code (src/**/*.spec.ts); e2e and integration suites live in test/.
//
// NestJS 12 and a few of its dependencies ship ESM only. Node 24 can require() them, but Jest's own module
// loader runs CommonJS in a vm context, so those packages are compiled to CommonJS by swc like our code.
const esmOnlyPackages = ['@nestjs', 'file-type', 'strtok3', 'token-types', 'uint8array-extras', '@tokenizer', '@borewit', 'cookie', 'content-disposition', '@kubernetes-models', 'is-cidr', 'cidr-regex'];
const esmToCommonJs = ['@swc/jest', { swcrc: false, jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' }, module: { type: 'commonjs' } }];
const transform = { '^.+\\.ts$': ['@swc/jest'], '^.+\\.js$': esmToCommonJs };
// Skip a node_modules file unless the innermost package holding it is one of the ESM-only ones.
const transformIgnorePatterns = [`^(?!.*/node_modules/(?:${esmOnlyPackages.join('|')})/(?!.*/node_modules/)).*/node_modules/`];
const common = { transform, transformIgnorePatterns, testEnvironment: '<rootDir>/test/support/main-realm-environment.js', moduleFileExtensions: ['ts', 'js', 'json'], resolver: '<rootDir>/test/support/import-condition-resolver.js' };

module.exports = {
  // The full run finishes its tests but leaves a handle open somewhere (not yet found: each suspect suite exits on
  // its own); without this the process would wait for it indefinitely after reporting.
  forceExit: true,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/tools/**/*.spec.ts'] },
    // test/containers builds and runs the images (minutes, root, podman): `npm run test:containers` only.
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'], testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/containers/'] },
  ],
};
