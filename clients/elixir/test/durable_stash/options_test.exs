defmodule DurableStash.OptionsTest do
  use ExUnit.Case, async: true

  alias DurableStash.Options

  defp adapter_error(opts) do
    assert_raise(ArgumentError, fn -> Options.adapter!(opts) end).message
  end

  defp config_error(config) do
    assert_raise(ArgumentError, fn -> Options.config!(config) end).message
  end

  describe "adapter options" do
    test "defaults, bare atoms as :session, the keyword form for scopes" do
      assert Options.adapter!(stored_keys: [:count, draft: :reconnect, theme: :session]) == %{
               stored_keys: [count: :session, draft: :reconnect, theme: :session],
               vsn: 1,
               migrate: nil,
               secret: nil,
               session_id_key: "sid",
               on_invalid_value: :raise
             }
    end

    test "accepts every documented option, and :auto_stash (ignored)" do
      opts = [
        stored_keys: [:a],
        vsn: 3,
        migrate: {Mod, :fun},
        secret: String.duplicate("x", 32),
        session_id_key: :browser_id,
        on_invalid_value: :log,
        auto_stash: true
      ]

      assert %{vsn: 3, migrate: {Mod, :fun}, session_id_key: "browser_id", on_invalid_value: :log} =
               Options.adapter!(opts)

      assert is_function(Options.adapter!(stored_keys: [], migrate: &Map.merge/2).migrate, 2)
    end

    test "unknown options are rejected, with a suggestion" do
      message = adapter_error(stored_key: [:a])
      assert message =~ "DurableStash has no option :stored_key (did you mean :stored_keys?)"
      assert message =~ ":on_invalid_value"

      assert adapter_error(stored_keys: [:a], ttl: 5) =~ "no option :ttl. The options are"
    end

    test ":stored_keys is required and checked" do
      assert adapter_error([]) =~ "needs :stored_keys"
      assert adapter_error(stored_keys: :count) =~ ":stored_keys must be a list"
      assert adapter_error(stored_keys: ["count"]) =~ ~s{got: "count"}

      assert adapter_error(stored_keys: [draft: :reconect]) =~
               "the scope of :draft in :stored_keys must be :session"

      assert adapter_error(stored_keys: [:a, a: :reconnect]) =~ "appears 2 times"
    end

    test ":vsn, :migrate, :secret, :session_id_key, :on_invalid_value are checked" do
      assert adapter_error(stored_keys: [], vsn: 0) =~ ":vsn must be a positive integer"
      assert adapter_error(stored_keys: [], vsn: "2") =~ ":vsn must be a positive integer"
      assert adapter_error(stored_keys: [], migrate: Mod) =~ "{MyModule, :function}"
      assert adapter_error(stored_keys: [], migrate: &Map.get/3) =~ "&MyModule.function/2"

      assert adapter_error(stored_keys: [], migrate: fn _, d -> d end) =~
               "cannot be an anonymous function"

      message = adapter_error(stored_keys: [], secret: "short-secret")
      assert message =~ "12 bytes long"
      refute message =~ "short-secret"

      assert adapter_error(stored_keys: [], session_id_key: "") =~ ":session_id_key"
      assert adapter_error(stored_keys: [], on_invalid_value: :ignore) =~ ":raise"
    end

    test "options must be a keyword list" do
      assert adapter_error(%{stored_keys: []}) =~ "must be a keyword list"
    end
  end

  describe "client configuration" do
    test "defaults" do
      assert Options.config!([]) == %{
               daemons: [{"127.0.0.1:7379", ~c"127.0.0.1", 7379}],
               auth_token: nil,
               pool_size: 2,
               timeout: 2_000,
               secret: nil,
               daemon_path: nil,
               data_dir: "tmp/durable_stash"
             }
    end

    test "daemon lists, IPv6, :embedded and the singular :daemon" do
      assert %{daemons: [{"a:1", ~c"a", 1}, {"[::1]:7379", ~c"::1", 7379}]} =
               Options.config!(daemons: ["a:1", "[::1]:7379"])

      assert %{daemons: :embedded} = Options.config!(daemons: :embedded)
      assert %{daemons: :embedded} = Options.config!(daemon: :embedded)
      assert %{daemons: [{"h:2", ~c"h", 2}]} = Options.config!(daemon: "h:2")
      assert %{data_dir: :memory} = Options.config!(data_dir: :memory)
    end

    test "mistakes get messages saying what to write" do
      assert config_error(daemons: []) =~ ~s{a non-empty list of "host:port" strings}
      assert config_error(daemons: ["localhost"]) =~ ~s{"host:port" string}
      assert config_error(daemons: ["h:0"]) =~ ~s{got: "h:0"}
      assert config_error(daemons: ["h:1", "h:1"]) =~ "listed twice"
      assert config_error(daemons: ["h:1"], daemon: "h:2") =~ "both :daemons and :daemon"
      assert config_error(deamons: ["h:1"]) =~ "no key :deamons (did you mean :daemons?)"
      assert config_error(pool_size: 0) =~ "pool_size: 2"
      assert config_error(timeout: :infinity) =~ "timeout: 2_000"
      assert config_error(auth_token: "") =~ "auth_token"
      assert config_error(secret: "x") =~ "1 bytes long"
      assert config_error(daemon_path: 1) =~ "daemon_path"
      assert config_error(data_dir: nil) =~ ":memory"
    end
  end
end
