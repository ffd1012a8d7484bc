import { describe, expect, it } from "@effect/vitest"
import { formatRfc3339Nano } from "../../src/session/Timestamp.js"

const ns = (iso: string, fraction = 0n) => BigInt(Date.parse(iso)) * 1_000_000n + fraction

describe("formatRfc3339Nano (Go's time.Time JSON in UTC)", () => {
  it("prints no fraction when it is zero", () => {
    expect(formatRfc3339Nano(ns("2025-05-01T17:33:15Z"))).toBe("2025-05-01T17:33:15Z")
    expect(formatRfc3339Nano(0n)).toBe("1970-01-01T00:00:00Z")
  })

  it("trims trailing zeros of the fraction", () => {
    expect(formatRfc3339Nano(ns("2025-05-01T17:33:15Z", 500_000_000n))).toBe("2025-05-01T17:33:15.5Z")
    expect(formatRfc3339Nano(ns("2025-05-01T17:33:15Z", 497_273_000n))).toBe("2025-05-01T17:33:15.497273Z")
    expect(formatRfc3339Nano(ns("2025-05-01T17:33:15Z", 120_000n))).toBe("2025-05-01T17:33:15.00012Z")
  })

  it("keeps sub-microsecond digits, down to one nanosecond", () => {
    expect(formatRfc3339Nano(ns("2026-11-27T09:53:30Z", 414_696_802n))).toBe("2026-11-27T09:53:30.414696802Z")
    expect(formatRfc3339Nano(ns("2026-11-27T09:53:30Z", 1n))).toBe("2026-11-27T09:53:30.000000001Z")
    expect(formatRfc3339Nano(ns("2026-11-27T09:53:30Z", 999_999_999n))).toBe("2026-11-27T09:53:30.999999999Z")
  })

  it("pads every field", () => {
    expect(formatRfc3339Nano(ns("0999-01-02T03:04:05Z", 60n))).toBe("0999-01-02T03:04:05.00000006Z")
  })

  it("borrows a second for times before the epoch", () => {
    expect(formatRfc3339Nano(-1n)).toBe("1969-12-31T23:59:59.999999999Z")
  })
})
