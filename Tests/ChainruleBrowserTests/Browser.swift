import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why the browser tests could not drive a browser.
struct BrowserError: Error, CustomStringConvertible {
    var description: String

    static let missing = BrowserError(description: """
        Chromium is not installed, and the interactive page's tests need a real browser. \
        Install it with: apt-get install -y chromium (or set CHROMIUM to a Chromium or Chrome binary)
        """)
}

/// Headless Chromium driven over the DevTools protocol on a pipe
/// (`--remote-debugging-pipe`): JSON messages ended by a NUL byte, commands
/// written to the browser's fd 3, replies and events read from its fd 4. No
/// websocket, no port. One page (a target in flat session mode) per browser.
final class Browser {
    private var pid: pid_t = 0
    private let commands: Int32
    private let replies: Int32
    private var buffer: [UInt8] = []
    private var nextID = 0
    private var session: String?
    private let profile: String
    /// Events received so far (method and params), in order.
    private(set) var events: [(method: String, params: [String: Any])] = []

    /// Chromium from `CHROMIUM`, else the first of Debian's and Google's names on `PATH`.
    static func executable() -> String? {
        if let path = ProcessInfo.processInfo.environment["CHROMIUM"], access(path, X_OK) == 0 { return path }
        let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for name in ["chromium", "chromium-browser", "google-chrome", "chrome"] {
            for folder in folders where access("\(folder)/\(name)", X_OK) == 0 { return "\(folder)/\(name)" }
        }
        return nil
    }

    /// Starts the browser with a `width × height` page at one pixel per CSS pixel.
    init(width: Int = 1280, height: Int = 800) throws {
        guard let path = Self.executable() else { throw BrowserError.missing }
        profile = FileManager.default.temporaryDirectory.appendingPathComponent("chainrule-browser-\(UUID().uuidString)").path
        var toBrowser: [Int32] = [0, 0], fromBrowser: [Int32] = [0, 0]
        guard pipe(&toBrowser) == 0, pipe(&fromBrowser) == 0 else { throw BrowserError(description: "no pipe: \(errno)") }
        for fd in toBrowser + fromBrowser { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        commands = toBrowser[1]
        replies = fromBrowser[0]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // Through high numbers first, so that dup2 never meets an fd already at 3 or 4.
        let readEnd = fcntl(toBrowser[0], F_DUPFD_CLOEXEC, 200), writeEnd = fcntl(fromBrowser[1], F_DUPFD_CLOEXEC, 200)
        posix_spawn_file_actions_adddup2(&actions, readEnd, 3)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 4)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let arguments = [path, "--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe", "--no-first-run",
                         "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars", "--mute-audio",
                         "--user-data-dir=\(profile)", "--window-size=\(width),\(height)", "about:blank"]
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let status = posix_spawn(&pid, path, &actions, nil, argv, environ)
        for fd in [toBrowser[0], fromBrowser[1], readEnd, writeEnd] { Glibc.close(fd) }
        guard status == 0 else {
            Glibc.close(commands)
            Glibc.close(replies)
            throw BrowserError(description: "could not start \(path): \(String(cString: strerror(status)))")
        }
        let target = try call("Target.createTarget", ["url": "about:blank"], inSession: false)
        guard let targetID = target["targetId"] as? String else { throw BrowserError(description: "no target: \(target)") }
        let attached = try call("Target.attachToTarget", ["targetId": targetID, "flatten": true], inSession: false)
        session = attached["sessionId"] as? String
        for domain in ["Runtime.enable", "Log.enable", "Page.enable"] { _ = try call(domain) }
        _ = try call("Emulation.setDeviceMetricsOverride", ["width": width, "height": height, "deviceScaleFactor": 1, "mobile": false])
    }

    deinit { quit() }

    /// Asks the browser to quit, then makes sure it has (SIGKILL after 3 s), and removes its profile.
    func quit() {
        guard pid != 0 else { return }
        _ = try? send("Browser.close", [:], inSession: false)
        Glibc.close(commands)
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(3)
        while waitpid(pid, &status, WNOHANG) == 0 {
            if Date() > deadline {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                break
            }
            usleep(20_000)
        }
        Glibc.close(replies)
        pid = 0
        try? FileManager.default.removeItem(atPath: profile)
    }

    // MARK: The protocol

    @discardableResult
    private func send(_ method: String, _ params: [String: Any], inSession: Bool) throws -> Int {
        nextID += 1
        var message: [String: Any] = ["id": nextID, "method": method, "params": params]
        if inSession, let session { message["sessionId"] = session }
        var bytes = [UInt8](try JSONSerialization.data(withJSONObject: message))
        bytes.append(0)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(commands, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw BrowserError(description: "the browser closed its pipe") }
            offset += n
        }
        return nextID
    }

    /// The next message, waiting at most until `deadline`.
    private func receive(until deadline: Date) throws -> [String: Any] {
        while true {
            if let end = buffer.firstIndex(of: 0) {
                let message = Data(buffer[..<end])
                buffer.removeSubrange(...end)
                guard let object = try JSONSerialization.jsonObject(with: message) as? [String: Any] else { continue }
                return object
            }
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { throw BrowserError(description: "the browser did not answer in time") }
            var poller = pollfd(fd: replies, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(min(left, 1) * 1000))
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            let n = chunk.withUnsafeMutableBytes { read(replies, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw BrowserError(description: "the browser quit") }
            buffer += chunk[..<n]
        }
    }

    /// Sends a command and waits for its reply; events that arrive meanwhile are kept.
    @discardableResult
    func call(_ method: String, _ params: [String: Any] = [:], inSession: Bool = true, timeout: TimeInterval = 20) throws -> [String: Any] {
        let id = try send(method, params, inSession: inSession)
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let message = try receive(until: deadline)
            if let method = message["method"] as? String {
                events.append((method, message["params"] as? [String: Any] ?? [:]))
            } else if message["id"] as? Int == id {
                if let error = message["error"] { throw BrowserError(description: "\(method): \(error)") }
                return message["result"] as? [String: Any] ?? [:]
            }
        }
    }

    /// Waits for an event named `method` (one already received counts).
    func wait(for method: String, timeout: TimeInterval = 20) throws {
        if events.contains(where: { $0.method == method }) { return }
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let message = try receive(until: deadline)
            guard let name = message["method"] as? String else { continue }
            events.append((name, message["params"] as? [String: Any] ?? [:]))
            if name == method { return }
        }
    }

    // MARK: What the tests do

    /// Opens `url` and waits for its load event.
    func open(_ url: URL) throws {
        events.removeAll { $0.method == "Page.loadEventFired" }
        try call("Page.navigate", ["url": url.absoluteString])
        try wait(for: "Page.loadEventFired")
    }

    /// The value of a JavaScript expression (promises awaited); a thrown exception is an error.
    @discardableResult
    func evaluate(_ expression: String) throws -> Any? {
        let result = try call("Runtime.evaluate", ["expression": expression, "returnByValue": true, "awaitPromise": true])
        if let exception = result["exceptionDetails"] { throw BrowserError(description: "\(expression): \(exception)") }
        return (result["result"] as? [String: Any])?["value"]
    }

    func number(_ expression: String) throws -> Double {
        guard let value = try evaluate(expression) as? Double else { throw BrowserError(description: "\(expression) is not a number") }
        return value
    }

    func string(_ expression: String) throws -> String {
        guard let value = try evaluate(expression) as? String else { throw BrowserError(description: "\(expression) is not a string") }
        return value
    }

    /// Moves the mouse to (x, y) in CSS pixels, as a person would.
    func moveMouse(to x: Double, _ y: Double) throws {
        try call("Input.dispatchMouseEvent", ["type": "mouseMoved", "x": x, "y": y])
    }

    /// A left click at (x, y).
    func click(_ x: Double, _ y: Double) throws {
        try moveMouse(to: x, y)
        for type in ["mousePressed", "mouseReleased"] {
            try call("Input.dispatchMouseEvent", ["type": type, "x": x, "y": y, "button": "left", "clickCount": 1])
        }
    }

    /// A turn of the mouse wheel at (x, y): negative `deltaY` scrolls up (zooms in on the page).
    func wheel(at x: Double, _ y: Double, deltaY: Double) throws {
        try moveMouse(to: x, y)
        try call("Input.dispatchMouseEvent", ["type": "mouseWheel", "x": x, "y": y, "deltaX": 0, "deltaY": deltaY])
    }

    /// Presses the left button at `from`, moves in `steps` to `to`, and releases it there.
    func drag(from: (Double, Double), to: (Double, Double), steps: Int = 8) throws {
        try moveMouse(to: from.0, from.1)
        try call("Input.dispatchMouseEvent", ["type": "mousePressed", "x": from.0, "y": from.1, "button": "left", "buttons": 1, "clickCount": 1])
        for k in 1...steps {
            let t = Double(k) / Double(steps)
            try call("Input.dispatchMouseEvent", ["type": "mouseMoved", "x": from.0 + (to.0 - from.0) * t, "y": from.1 + (to.1 - from.1) * t,
                                                  "button": "left", "buttons": 1])
        }
        try call("Input.dispatchMouseEvent", ["type": "mouseReleased", "x": to.0, "y": to.1, "button": "left", "buttons": 0, "clickCount": 1])
    }

    /// Types `text` into the element that has the focus, as a keyboard's input would.
    func type(_ text: String) throws {
        try call("Input.insertText", ["text": text])
    }

    /// Renders the page as the print dialog would (print media) and returns the PDF.
    func printToPDF() throws -> Data {
        let result = try call("Page.printToPDF", ["printBackground": true])
        guard let text = result["data"] as? String, let data = Data(base64Encoded: text) else { throw BrowserError(description: "no PDF") }
        return data
    }

    /// Makes CSS see `media` ("print", "screen") from now on.
    func emulateMedia(_ media: String) throws {
        try call("Emulation.setEmulatedMedia", ["media": media])
    }

    func click(_ point: (Double, Double)) throws { try click(point.0, point.1) }

    /// Presses and releases a key (`ArrowRight`, `Escape`, …).
    func press(_ key: String, code: Int) throws {
        for type in ["rawKeyDown", "keyUp"] {
            try call("Input.dispatchKeyEvent", ["type": type, "key": key, "code": key, "windowsVirtualKeyCode": code])
        }
    }

    /// A PNG of the page's viewport.
    func screenshot() throws -> Data {
        let result = try call("Page.captureScreenshot", ["format": "png"])
        guard let text = result["data"] as? String, let data = Data(base64Encoded: text) else { throw BrowserError(description: "no screenshot") }
        return data
    }

    /// Console errors, uncaught exceptions and error log entries so far.
    var errors: [String] {
        events.compactMap { event in
            switch event.method {
            case "Runtime.exceptionThrown":
                let details = event.params["exceptionDetails"] as? [String: Any]
                return "exception: \((details?["exception"] as? [String: Any])?["description"] ?? details?["text"] ?? "?")"
            case "Runtime.consoleAPICalled" where ["error", "assert"].contains(event.params["type"] as? String):
                return "console.error: \(event.params["args"] ?? "")"
            case "Log.entryAdded":
                let entry = event.params["entry"] as? [String: Any]
                return entry?["level"] as? String == "error" ? "log: \(entry?["text"] ?? "")" : nil
            default:
                return nil
            }
        }
    }
}
