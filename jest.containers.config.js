// `npm run test:containers`: builds the images with podman and runs them, and the Compose stack (test/containers); kept out of `npm test`.
const { projects } = require('./jest.config');

const e2e = projects.find((project) => project.displayName === 'e2e');
module.exports = { ...e2e, displayName: 'containers', testMatch: ['<rootDir>/test/containers/**/*.e2e-spec.ts'], testPathIgnorePatterns: ['/node_modules/'] };
