import { defineConfig } from "vitest/config"

// The tests are the TypeScript files in test/ (not their compiled copies in dist/).
export default defineConfig({ test: { include: ["test/**/*.test.ts"] } })
