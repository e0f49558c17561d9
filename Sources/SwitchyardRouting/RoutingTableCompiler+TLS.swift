import SwitchyardConfig
import SwitchyardTLS

/// Compiling the `tls` section: certificates of the default store, the TLS options, and which option each host of
/// a TLS router uses.
extension RoutingTableBuild {
    /// Certificates and options, before the routers that name options.
    mutating func compileTLS() {
        let tls = merged.configuration.tls ?? TLSConfiguration()
        var certificates: [ServingCertificate] = []
        for (index, entry) in (tls.certificates ?? []).enumerated() {
            let keyPath = "tls.certificates[\(index)]"
            guard let certFile = entry.certFile, let keyFile = entry.keyFile else {
                issues.append(ConfigurationIssue(
                    at: SourceLocation(source: "tls.certificates"), keyPath: keyPath, message: "set certFile and keyFile"))
                continue
            }
            if let stores = entry.stores, !stores.isEmpty, !stores.contains("default") {
                issues.append(ConfigurationIssue(
                    .warning, at: SourceLocation(source: "tls.certificates"), keyPath: keyPath,
                    message: "only the default store is served; this certificate names \(stores.joined(separator: ", "))"))
                continue
            }
            do {
                let provider = index < merged.certificateProviders.count ? merged.certificateProviders[index] : "unknown"
                let inline = certFile.contains("-----BEGIN")
                let certificate = try ServingCertificate(
                    certificate: certFile, key: keyFile, source: inline ? "inline, provider \(provider)" : nil)
                certificates.append(certificate)
                if certificate.notAfter < .now {
                    issues.append(ConfigurationIssue(
                        .warning, at: SourceLocation(source: certificate.source), keyPath: keyPath,
                        message: "the certificate for \(certificate.names.joined(separator: ", ")) expired on \(certificate.notAfter)"))
                }
            } catch {
                issues.append(ConfigurationIssue(at: SourceLocation(source: "tls.certificates"), keyPath: keyPath, message: error.description))
            }
        }
        var defaultCertificate: ServingCertificate?
        for (name, store) in (tls.stores ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard name == "default" else {
                issues.append(ConfigurationIssue(
                    .warning, at: merged.origins[ResourceKey(.tlsStore, name)] ?? SourceLocation(source: "tls.stores"),
                    keyPath: "tls.stores.\(name)", message: "only the default store is served"))
                continue
            }
            if let files = store.defaultCertificate {
                do {
                    defaultCertificate = try ServingCertificate(certificate: files.certFile ?? "", key: files.keyFile ?? "")
                } catch {
                    issues.append(ConfigurationIssue(
                        at: merged.origins[ResourceKey(.tlsStore, name)] ?? SourceLocation(source: "tls.stores"),
                        keyPath: "tls.stores.default.defaultCertificate", message: error.description))
                }
            }
        }
        let store = CertificateStore(certificates: certificates, defaultCertificate: defaultCertificate)
        var options: [String: TLSRuntime.Option] = [:]
        var definitions = tls.options ?? [:]
        if definitions["default"] == nil { definitions["default"] = TLSOptions() }
        for (name, definition) in definitions.sorted(by: { $0.key < $1.key }) {
            do {
                options[name] = try TLSOptionsCompiler.option(named: name, definition, store: store)
            } catch {
                let key = error.key.isEmpty ? "tls.options.\(ResourceName.bare(name))" : "tls.options.\(ResourceName.bare(name)).\(error.key)"
                issues.append(ConfigurationIssue(
                    at: merged.origins[ResourceKey(.tlsOptions, name)] ?? SourceLocation(source: "tls.options"),
                    keyPath: key, message: error.message))
                tlsOptionErrors[name] = error.description
            }
        }
        if options["default"] == nil {
            // A broken `default` falls back to the built-in one, so TLS keeps working.
            options["default"] = TLSRuntime.fallback().options["default"]
        }
        tlsStore = store
        tlsOptions = options
    }

    /// Checks a TLS router's `tls` section: the option it names exists and compiled. Returns the option's name, or
    /// the error.
    mutating func checkTLS(_ tls: RouterTLS, router name: String) -> Result<String, Failure> {
        let option = tls.options ?? "default"
        if let error = tlsOptionErrors[option] {
            return .failure(Failure(key: "tls.options", message: "the TLS option \"\(option)\" is broken: \(error)"))
        }
        guard tlsOptions[option] != nil else {
            return .failure(Failure(key: "tls.options", message: "the TLS option \"\(option)\" does not exist"))
        }
        if let resolver = tls.certResolver, !resolver.isEmpty, !compiler.certificateResolvers.contains(resolver) {
            _ = report(
                .httpRouter, name, key: "tls.certResolver",
                "the certificate resolver \"\(resolver)\" does not exist; the configured certificates (or the default one) are used",
                severity: .warning)
        }
        return .success(option)
    }

    var tlsRuntime: TLSRuntime {
        TLSRuntime(store: tlsStore ?? CertificateStore(certificates: []), options: tlsOptions, hostOptions: hostOptions)
    }

    /// Records the TLS option a TLS router's hosts use; two routers giving one host different options make it use
    /// `default`, with a warning, as in Traefik.
    mutating func useTLSOption(_ option: String, for rule: String, router: String) {
        guard let expression = try? RuleParser.parse(rule) else { return }
        for host in expression.hosts {
            if let existing = hostOptionChoices[host], existing.option != option {
                if !conflictingHosts.contains(host) {
                    conflictingHosts.insert(host)
                    _ = report(
                        .httpRouter, router, key: "tls.options",
                        "the host \(host) is given TLS option \(option) here and \(existing.option) by router \(existing.router); it uses default",
                        severity: .warning)
                }
                continue
            }
            hostOptionChoices[host] = (option, router)
        }
    }

    /// Warnings on a TLS router whose hosts have no certificate (the default one answers) or one that expires in
    /// less than 14 days or has expired; a resolver's certificates are its business (it renews them, or reports).
    mutating func checkCertificates(for rule: String, router name: String, tls: RouterTLS, info: inout RouterInfo) {
        guard tls.certResolver?.isEmpty ?? true, let store = tlsStore, let expression = try? RuleParser.parse(rule) else { return }
        var seen = Set<String>()
        for host in expression.hosts where !host.contains("*") && seen.insert(host).inserted {
            let message: String
            if let certificate = store.certificate(for: host) {
                let left = certificate.notAfter.timeIntervalSinceNow
                guard left < 14 * 86_400 else { continue }
                message = left <= 0
                    ? "the certificate for \(host) (\(certificate.source)) expired on \(certificate.notAfter)"
                    : "the certificate for \(host) (\(certificate.source)) expires on \(certificate.notAfter)"
            } else {
                message = "no certificate is for \(host); the default certificate answers (clients will not trust it)"
            }
            info.errors.append(report(.httpRouter, name, key: "tls", message, severity: .warning))
            if info.status == .enabled { info.status = .warning }
        }
    }

    var hostOptions: [String: String] {
        var result: [String: String] = [:]
        for (host, choice) in hostOptionChoices where !conflictingHosts.contains(host) { result[host] = choice.option }
        return result
    }
}
