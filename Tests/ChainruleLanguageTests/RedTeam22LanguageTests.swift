import ChainruleCore
@testable import ChainruleLanguage
import Foundation
import Testing

/// Session 22's red team: layer names that collided, so two parameters shared
/// one name and a trained checkpoint could not be resumed.
@Suite struct RedTeam22LanguageTests {
    /// The names of the program's parameters, in the order it creates them.
    static func parameterNames(_ source: String) throws -> [String] {
        let program = try Compiler.compile(source: source, file: nil)
        return program.graph.nodes.filter { $0.role == .param }.map(\.displayName)
    }

    /// Before: `h`'s second layer was `h_2`, and so was the binding `h_2`'s layer: two
    /// `h_2.W` of different shapes, one seed (the name's hash) for both, and a checkpoint
    /// that kept one of them and refused to resume.
    @Test func aLayerNamedAfterABindingKeepsItsNameAndTheOthersMoveOn() throws {
        let laterBinding = "x = [[1, 2, 3]]\nh = Linear(Linear(x, 3), 2)\nh_2 = Linear(x, 4)\nloss = sum(h) + sum(h_2)\n"
        #expect(try Self.parameterNames(laterBinding) == ["h.W", "h.b", "h_3.W", "h_3.b", "h_2.W", "h_2.b"])
        let earlierBinding = "x = [[1, 2, 3]]\nh_2 = Linear(x, 4)\nh = Linear(x, 3) + Linear(x, 3)\nloss = sum(h) + sum(h_2)\n"
        #expect(try Self.parameterNames(earlierBinding) == ["h_2.W", "h_2.b", "h.W", "h.b", "h_3.W", "h_3.b"])
        let many = "x = [[1, 2, 3]]\nh_2 = 1\nh_3 = 2\nh = Linear(x, 3) + Linear(x, 3) + Linear(x, 3)\nloss = sum(h) + h_2 + h_3\n"
        #expect(try Self.parameterNames(many) == ["h.W", "h.b", "h_4.W", "h_4.b", "h_5.W", "h_5.b"])
        // The plain case is unchanged: a binding's first layer (the innermost) is the binding's name, then `_2`.
        #expect(try Self.parameterNames("x = [[1, 2]]\nh = Linear(Linear(x, 3), 2)\ny = sum(h)\n") == ["h.W", "h.b", "h_2.W", "h_2.b"])
    }

    @Test func everyParameterNameIsUniqueAndEachGetsItsOwnSeed() throws {
        let source = "x = [[1, 2]]\nh = Conv2D(reshape(Linear(x, 16), [1, 1, 4, 4]), filters: 1, kernel: 2)\nh_2 = Linear(x, 16)\nh_3 = Linear(x, 16)\nloss = sum(h) + sum(h_2) + sum(h_3)\n"
        let program = try Compiler.compile(source: source, file: nil)
        let parameters = program.graph.nodes.filter { $0.role == .param }
        #expect(Set(parameters.map(\.displayName)).count == parameters.count, "\(parameters.map(\.displayName))")
        let weights = parameters.filter { $0.displayName.hasSuffix(".W") && $0.shape == [16, 2] }.map { $0.value!.data }
        #expect(weights.count == 3 && Set(weights.map { $0.map(\.bitPattern) }).count == 3)
    }
}
