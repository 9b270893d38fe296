/// A problem found while building or running a net or solver that is not tied to one place in a file.
public struct CortadoError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
