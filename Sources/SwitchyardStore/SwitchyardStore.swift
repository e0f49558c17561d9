import Foundation
import GRDB

/// Switchyard's SQLite database (`switchyard.db`): what must outlive a restart. The routing-table versions (their
/// time, cause, configuration and errors), the ACME accounts and the certificates they obtained. A database that cannot be opened or written is an error in the log; the proxy keeps
/// serving, with the data kept in memory for the life of the process.
public final class SwitchyardStore: Sendable {
    public let path: String
    private let database: DatabaseQueue
    /// Why the file could not be used (the store then lives in memory), or nil.
    public let problem: String?

    public struct StoredCertificate: Sendable, Hashable {
        public var resolver: String
        /// The names it is for, main first.
        public var domains: [String]
        public var certificatePEM: String
        public var keyPEM: String
        public var notAfter: Date

        public init(resolver: String, domains: [String], certificatePEM: String, keyPEM: String, notAfter: Date) {
            self.resolver = resolver
            self.domains = domains
            self.certificatePEM = certificatePEM
            self.keyPEM = keyPEM
            self.notAfter = notAfter
        }
    }

    public struct StoredAccount: Sendable, Hashable {
        public var resolver: String
        public var caServer: String
        public var email: String
        public var keyPEM: String
        public var url: String

        public init(resolver: String, caServer: String, email: String, keyPEM: String, url: String) {
            self.resolver = resolver
            self.caServer = caServer
            self.email = email
            self.keyPEM = keyPEM
            self.url = url
        }
    }

    public init(path: String) {
        self.path = path
        var problem: String?
        var opened: DatabaseQueue?
        do {
            let queue = try DatabaseQueue(path: path)
            try Self.migrator.migrate(queue)
            opened = queue
        } catch {
            problem = "cannot use \(path): \(error); keeping the history, ACME accounts and certificates in memory until it is fixed"
        }
        // An in-memory database always opens and migrates.
        database = try! opened ?? {
            let memory = try DatabaseQueue()
            try Self.migrator.migrate(memory)
            return memory
        }()
        self.problem = problem
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("history") { db in
            try db.execute(sql: """
                CREATE TABLE table_version (
                    number INTEGER PRIMARY KEY, created REAL NOT NULL, changed TEXT NOT NULL, routers INTEGER NOT NULL,
                    errors INTEGER NOT NULL, configuration TEXT NOT NULL, issues TEXT NOT NULL);
                """)
        }
        migrator.registerMigration("acme") { db in
            try db.execute(sql: """
                CREATE TABLE acme_account (
                    resolver TEXT NOT NULL, ca_server TEXT NOT NULL, email TEXT NOT NULL, key_pem TEXT NOT NULL,
                    url TEXT NOT NULL, PRIMARY KEY (resolver, ca_server));
                CREATE TABLE acme_certificate (
                    resolver TEXT NOT NULL, domains TEXT NOT NULL, certificate_pem TEXT NOT NULL, key_pem TEXT NOT NULL,
                    not_after REAL NOT NULL, PRIMARY KEY (resolver, domains));
                """)
        }
        migrator.registerMigration("history-diff") { db in
            try db.execute(sql: "ALTER TABLE table_version ADD COLUMN diff TEXT")
        }
        return migrator
    }

    /// One published routing table: when, which providers' change made it, and what it held.
    public struct Version: Sendable, Hashable {
        public var number: Int64
        public var created: Date
        public var changed: [String]
        public var routers: Int
        public var errors: Int
        /// The merged configuration and the issues, as JSON.
        public var configuration: Data
        public var issues: Data
        /// What changed from the version recorded before it (`ConfigurationDiff`), as JSON; made when recorded.
        public var diff: Data?

        public init(
            number: Int64, created: Date, changed: [String], routers: Int, errors: Int, configuration: Data, issues: Data,
            diff: Data? = nil
        ) {
            self.diff = diff
            self.number = number
            self.created = created
            self.changed = changed
            self.routers = routers
            self.errors = errors
            self.configuration = configuration
            self.issues = issues
        }
    }

    /// Records a version, with its diff against the newest one recorded before it, and keeps the newest `keep`.
    public func record(_ version: Version, keep: Int) throws {
        try database.write { db in
            let previous = try String.fetchOne(
                db, sql: "SELECT configuration FROM table_version WHERE number < ? ORDER BY number DESC LIMIT 1",
                arguments: [version.number])
            let diff = try version.diff ?? ConfigurationDiff.between(previous.map { Data($0.utf8) }, version.configuration)
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO table_version (number, created, changed, routers, errors, configuration, issues, diff)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    version.number, version.created.timeIntervalSince1970, version.changed.joined(separator: ","),
                    version.routers, version.errors, String(decoding: version.configuration, as: UTF8.self),
                    String(decoding: version.issues, as: UTF8.self), String(decoding: diff, as: UTF8.self),
                ])
            try db.execute(
                sql: "DELETE FROM table_version WHERE number <= (SELECT MAX(number) FROM table_version) - ?",
                arguments: [max(1, keep)])
        }
    }

    /// The newest versions first, without their configuration.
    public func versions(limit: Int) throws -> [Version] {
        try database.read { db in
            try Row.fetchAll(
                db, sql: "SELECT number, created, changed, routers, errors FROM table_version ORDER BY number DESC LIMIT ?",
                arguments: [limit]
            ).map { Self.version($0, full: false) }
        }
    }

    /// The newest kept version before `number`.
    public func version(before number: Int64) throws -> Version? {
        try database.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM table_version WHERE number < ? ORDER BY number DESC LIMIT 1", arguments: [number]
            ).map { Self.version($0, full: true) }
        }
    }

    public func version(_ number: Int64) throws -> Version? {
        try database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM table_version WHERE number = ?", arguments: [number]).map {
                Self.version($0, full: true)
            }
        }
    }

    private static func version(_ row: Row, full: Bool) -> Version {
        let changed: String = row["changed"]
        return Version(
            number: row["number"], created: Date(timeIntervalSince1970: row["created"]),
            changed: changed.isEmpty ? [] : changed.split(separator: ",").map(String.init), routers: row["routers"],
            errors: row["errors"], configuration: full ? Data((row["configuration"] as String).utf8) : Data(),
            issues: full ? Data((row["issues"] as String).utf8) : Data(),
            diff: full ? (row["diff"] as String?).map { Data($0.utf8) } : nil)
    }

    public func account(resolver: String, caServer: String) throws -> StoredAccount? {
        try database.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM acme_account WHERE resolver = ? AND ca_server = ?", arguments: [resolver, caServer]
            ).map {
                StoredAccount(resolver: $0["resolver"], caServer: $0["ca_server"], email: $0["email"], keyPEM: $0["key_pem"], url: $0["url"])
            }
        }
    }

    public func save(_ account: StoredAccount) throws {
        try database.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO acme_account (resolver, ca_server, email, key_pem, url) VALUES (?, ?, ?, ?, ?)",
                arguments: [account.resolver, account.caServer, account.email, account.keyPEM, account.url])
        }
    }

    public func certificates() throws -> [StoredCertificate] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM acme_certificate ORDER BY resolver, domains").map {
                StoredCertificate(
                    resolver: $0["resolver"], domains: ($0["domains"] as String).split(separator: ",").map(String.init),
                    certificatePEM: $0["certificate_pem"], keyPEM: $0["key_pem"],
                    notAfter: Date(timeIntervalSince1970: $0["not_after"]))
            }
        }
    }

    public func save(_ certificate: StoredCertificate) throws {
        try database.write { db in
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO acme_certificate (resolver, domains, certificate_pem, key_pem, not_after)
                    VALUES (?, ?, ?, ?, ?)
                    """,
                arguments: [
                    certificate.resolver, certificate.domains.joined(separator: ","), certificate.certificatePEM,
                    certificate.keyPEM, certificate.notAfter.timeIntervalSince1970,
                ])
        }
    }
}
