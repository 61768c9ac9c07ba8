/** Jest runs TypeScript through @swc/jest (no type-check here: `npm run typecheck` does that). */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } },
    ],
  },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  // A provider's own edge-case tests may live in its folder, next to its samples and fixtures.
  testMatch: ['<rootDir>/test/**/*.test.ts', '<rootDir>/shared/providers/*/**/*.test.ts'],
  testTimeout: 60000,
};
