defmodule DurableStash.UsageTest do
  # SPEC §6: the usage lines compile unchanged (test/support/views.ex holds them), the
  # adapter has LiveStash's callbacks, and LiveStash's way of starting it works.
  use ExUnit.Case

  alias DurableStash.TestDaemon
  alias DurableStash.Test.{CounterLive, ScopedLive}

  test "use LiveStash, adapter: DurableStash, ... registers LiveStash's on_mount hook" do
    assert CounterLive.__live__().lifecycle.mount == [
             {LiveStash, [adapter: DurableStash, stored_keys: [:count, :username]]}
           ]

    assert ScopedLive.__live__().lifecycle.mount == [
             {LiveStash,
              [adapter: DurableStash, stored_keys: [theme: :session, draft: :reconnect]]}
           ]
  end

  test "the adapter exports exactly LiveStash's adapter callbacks" do
    callbacks = [init_stash: 3, stash: 1, recover_state: 1, reset_stash: 1, child_spec: 1]
    assert Enum.sort(DurableStash.__info__(:functions)) == Enum.sort(callbacks)
  end

  test "options must be plain data: an anonymous :migrate does not compile" do
    source = """
    defmodule DurableStash.UsageTest.AnonymousMigrate do
      use Phoenix.LiveView
      use LiveStash, adapter: DurableStash, stored_keys: [:a], migrate: fn _vsn, data -> data end
    end
    """

    assert_raise ArgumentError, ~r/cannot escape/, fn -> Code.compile_string(source) end
  end

  test "LiveStash starts it as child_spec([]), reading config :durable_stash" do
    {_, address, _} = TestDaemon.start()
    Application.put_env(:durable_stash, :daemons, [address])
    on_exit(fn -> Application.delete_env(:durable_stash, :daemons) end)

    start_supervised!(DurableStash)
    assert {:ok, ^address} = DurableStash.Client.owner("any")
  end

  test "a bad configuration stops the client from starting, saying why" do
    Application.put_env(:durable_stash, :daemons, "127.0.0.1:7379")
    on_exit(fn -> Application.delete_env(:durable_stash, :daemons) end)

    assert {:error, {{:EXIT, {%ArgumentError{message: message}, _}}, _}} =
             start_supervised(DurableStash)

    assert message =~ ~s{:daemons must be a non-empty list of "host:port" strings}
  end
end
