import ChainruleCheck
import Testing
@Suite struct CheckReportTests {
    @Test func bandsFollowCS231n() {
        #expect(ErrorBand(relativeError: 1e-9) == .good)
        #expect(ErrorBand(relativeError: 1e-5) == .acceptable)
        #expect(ErrorBand(relativeError: 1e-3) == .suspicious)
        #expect(ErrorBand(relativeError: 0.5) == .wrong)
    }
}
