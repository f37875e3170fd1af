defmodule DurableStash.PlugTest do
  use ExUnit.Case, async: true

  alias DurableStash.Plug, as: SidPlug

  defp conn(session), do: %Plug.Conn{private: %{plug_session: session}}

  test "puts a random URL-safe sid of 256 bits into a session without one" do
    conn = SidPlug.call(conn(%{}), SidPlug.init([]))
    sid = Plug.Conn.get_session(conn, "sid")
    assert sid =~ ~r/\A[A-Za-z0-9_-]{43}\z/
    assert byte_size(Base.url_decode64!(sid, padding: false)) == 32
    assert conn.private.plug_session_info == :write
  end

  test "leaves an existing sid alone" do
    conn = conn(%{"sid" => "existing"})
    assert SidPlug.call(conn, SidPlug.init([])) == conn
  end

  test "replaces an empty or non-string sid" do
    for bad <- ["", 42] do
      conn = SidPlug.call(conn(%{"sid" => bad}), SidPlug.init([]))
      assert byte_size(Plug.Conn.get_session(conn, "sid")) == 43
    end
  end

  test "each new session gets its own sid" do
    sids = for _ <- 1..50, do: SidPlug.call(conn(%{}), "sid") |> Plug.Conn.get_session("sid")
    assert length(Enum.uniq(sids)) == 50
  end

  test "a custom session key" do
    conn = SidPlug.call(conn(%{}), SidPlug.init(session_id_key: :browser_id))
    assert Plug.Conn.get_session(conn, "browser_id")
    refute Plug.Conn.get_session(conn, "sid")
  end

  test "as a function plug" do
    conn = SidPlug.ensure_session_id(conn(%{}), [])
    assert Plug.Conn.get_session(conn, "sid")
  end

  test "before fetch_session it fails the way Plug does" do
    assert_raise ArgumentError, ~r/session not fetched/, fn ->
      SidPlug.call(%Plug.Conn{}, "sid")
    end
  end

  test "bad options" do
    assert_raise ArgumentError, ~r/:session_id_key/, fn -> SidPlug.init(session_id_key: "") end
  end

  test "the adapter finds the sid the plug put, under the same key" do
    conn = SidPlug.call(conn(%{}), SidPlug.init(session_id_key: "browser_id"))
    session = conn.private.plug_session

    socket =
      DurableStash.init_stash(
        %Phoenix.LiveView.Socket{view: __MODULE__, private: %{connect_params: %{}}},
        session,
        stored_keys: [:a],
        session_id_key: "browser_id"
      )

    assert socket.private.durable_stash.session_key ==
             DurableStash.SessionKey.derive(
               Application.fetch_env!(:durable_stash, :secret),
               session["browser_id"]
             )
  end
end
