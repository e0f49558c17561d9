/// `providers.file` in the static configuration.
public struct FileProviderOptions: Sendable, Hashable {
    /// A directory read recursively for `.yml`, `.yaml`, `.toml` and `.json` files.
    public var directory: String?
    /// A single file, instead of a directory.
    public var filename: String?
    /// Follow changes (default true).
    public var watch: Bool

    public init(directory: String? = nil, filename: String? = nil, watch: Bool = true) {
        self.directory = directory
        self.filename = filename
        self.watch = watch
    }
}
