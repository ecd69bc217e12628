import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start real supervisors and fake cloudflareds; a shared CI machine is slow.
    // Every wait in a test has a deadline of its own (test/helpers/wait.ts) well inside these, so a
    // hang fails with what was awaited rather than with the runner's timeout.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default', './test/closing-line-reporter.ts'],
  },
})
