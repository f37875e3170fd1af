defmodule DurableStash.ConnectionTest do
  use ExUnit.Case

  import ExUnit.CaptureLog

  alias DurableStash.{Connection, Error, FakeDaemon, TestDaemon}

  setup do
    {id, address, _} = TestDaemon.start()
    [host, port] = String.split(address, ":")
    endpoint = {String.to_charlist(host), String.to_integer(port)}
    conn = start_supervised!({Connection, daemon: address, endpoint: endpoint, timeout: 1_000})
    %{conn: conn, address: address, daemon_id: id}
  end

  test "a pipeline's replies come back in order, error replies in place", %{conn: conn} do
    assert {:ok, ["PONG", "hi", %Error{kind: "ERR"}, nil]} =
             Connection.request(
               conn,
               [["PING"], ["ECHO", "hi"], ["DS.RESET", "bad key!", "V"], ["DS.DUMP", "nobody"]],
               1_000
             )
  end

  test "many callers pipelining at once each get their own replies", %{conn: conn} do
    1..50
    |> Task.async_stream(
      fn caller ->
        for i <- 1..20 do
          payload = "#{caller}-#{i}"

          assert {:ok, [^payload, ^payload]} =
                   Connection.request(conn, [["ECHO", payload], ["ECHO", payload]], 5_000)
        end
      end,
      max_concurrency: 50
    )
    |> Enum.each(fn result -> assert {:ok, _} = result end)
  end

  test "values travel as ETF, large replies arrive in pieces", %{conn: conn} do
    value = %{"text" => String.duplicate("é", 30_000), "list" => Enum.to_list(1..500)}
    etf = :erlang.term_to_binary(value)

    assert {:ok, ["OK", ["recovered", 1, "v", returned]]} =
             Connection.request(
               conn,
               [
                 ["DS.STASH", "s", "V", 1, "v", etf],
                 ["DS.RECOVER", "s", "V", 1, "dead", "v", "session"]
               ],
               1_000
             )

    assert :erlang.binary_to_term(returned) == value
  end

  test "exchange/3 is a one-off request", %{address: address} do
    [host, port] = String.split(address, ":")

    assert {:ok, ["PONG"]} =
             Connection.exchange({~c"#{host}", String.to_integer(port)}, [["PING"]], 1_000)

    assert {:error, :econnrefused} =
             Connection.exchange({~c"127.0.0.1", TestDaemon.free_port()}, [["PING"]], 1_000)
  end

  describe "against a scripted peer" do
    setup do
      {listen, port} = FakeDaemon.listen()
      opts = [daemon: "fake", endpoint: {~c"127.0.0.1", port}, timeout: 1_000]
      %{listen: listen, opts: opts}
    end

    defp connect(listen, opts) do
      conn = start_supervised!({Connection, opts}, id: :fake)
      socket = FakeDaemon.accept(listen)
      {conn, socket}
    end

    defp handshake(socket, expected \\ [["DS.CODEC", "ETF"]]) do
      assert FakeDaemon.requests(socket, length(expected)) == expected
      FakeDaemon.reply(socket, String.duplicate("+OK\r\n", length(expected)))
    end

    test "on connect it sends AUTH with the token, then DS.CODEC ETF", %{
      listen: listen,
      opts: opts
    } do
      {conn, socket} = connect(listen, [auth_token: "tok"] ++ opts)
      handshake(socket, [["AUTH", "tok"], ["DS.CODEC", "ETF"]])

      task = Task.async(fn -> Connection.request(conn, [["PING"]], 1_000) end)
      assert FakeDaemon.requests(socket, 1) == [["PING"]]
      FakeDaemon.reply(socket, "+PONG\r\n")
      assert Task.await(task) == {:ok, ["PONG"]}
    end

    test "a caller waiting when the connection drops gets :closed at once, and it reconnects",
         %{listen: listen, opts: opts} do
      {conn, socket} = connect(listen, opts)
      handshake(socket)

      task = Task.async(fn -> Connection.request(conn, [["PING"]], 30_000) end)
      assert FakeDaemon.requests(socket, 1) == [["PING"]]

      capture_log(fn ->
        :ok = :gen_tcp.close(socket)
        assert {:error, %Error{kind: :closed}} = Task.await(task)
      end)

      # It connects again by itself (the accept is the event), with the handshake.
      socket = FakeDaemon.accept(listen)
      handshake(socket)
      task = Task.async(fn -> Connection.request(conn, [["ECHO", "x"]], 1_000) end)
      assert FakeDaemon.requests(socket, 1) == [["ECHO", "x"]]
      FakeDaemon.reply(socket, "$1\r\nx\r\n")
      assert Task.await(task) == {:ok, ["x"]}
    end

    test "a request that times out leaves later replies matched to their callers", %{
      listen: listen,
      opts: opts
    } do
      {conn, socket} = connect(listen, opts)
      handshake(socket)

      assert {:error, %Error{kind: :timeout}} = Connection.request(conn, [["ECHO", "a"]], 50)
      task = Task.async(fn -> Connection.request(conn, [["ECHO", "b"]], 1_000) end)
      assert FakeDaemon.requests(socket, 2) == [["ECHO", "a"], ["ECHO", "b"]]

      # The late reply to "a" goes to nobody; "b" gets its own.
      FakeDaemon.reply(socket, "$1\r\na\r\n$1\r\nb\r\n")
      assert Task.await(task) == {:ok, ["b"]}
      refute_received {_, {:ok, ["a"]}}
    end

    test "replies split anywhere are reassembled", %{listen: listen, opts: opts} do
      {conn, socket} = connect(listen, opts)
      handshake(socket)

      task = Task.async(fn -> Connection.request(conn, [["A"], ["B"]], 1_000) end)
      FakeDaemon.requests(socket, 2)

      for byte <- :binary.bin_to_list("*2\r\n$1\r\nx\r\n:5\r\n-ERR no\r\n") do
        FakeDaemon.reply(socket, <<byte>>)
      end

      assert Task.await(task) == {:ok, [["x", 5], %Error{kind: "ERR", message: "ERR no"}]}
    end

    test "a reply nobody asked for, or bytes that are not RESP, drop the connection", %{
      listen: listen,
      opts: opts
    } do
      {conn, socket} = connect(listen, opts)
      handshake(socket)

      Enum.reduce(["+PONG\r\n", "?garbage\r\n"], socket, fn bad, socket ->
        # One request answered: the connection is past its handshake.
        task = Task.async(fn -> Connection.request(conn, [["PING"]], 1_000) end)
        FakeDaemon.requests(socket, 1)
        FakeDaemon.reply(socket, "+PONG\r\n")
        assert Task.await(task) == {:ok, ["PONG"]}

        log =
          capture_log(fn ->
            FakeDaemon.reply(socket, bad)
            assert {:error, :closed} = :gen_tcp.recv(socket, 0, 5_000)
          end)

        assert log =~ "lost the connection to daemon fake"
        socket = FakeDaemon.accept(listen)
        handshake(socket)
        socket
      end)
    end

    test "more bytes than the handshake asked for fail the handshake", %{
      listen: listen,
      opts: opts
    } do
      capture_log(fn ->
        {_conn, socket} = connect(listen, opts)
        FakeDaemon.requests(socket, 1)
        FakeDaemon.reply(socket, "+OK\r\n+OK\r\n")
        assert {:error, :closed} = :gen_tcp.recv(socket, 0, 5_000)
        FakeDaemon.accept(listen)
      end)
    end

    test "a handshake refused by the daemon is retried with backoff", %{
      listen: listen,
      opts: opts
    } do
      log =
        capture_log(fn ->
          {_conn, socket} = connect(listen, [auth_token: "bad"] ++ opts)
          FakeDaemon.requests(socket, 2)
          FakeDaemon.reply(socket, "-WRONGPASS invalid password\r\n+OK\r\n")
          assert {:error, :closed} = :gen_tcp.recv(socket, 0, 5_000)

          # It tries again.
          socket = FakeDaemon.accept(listen)
          assert [["AUTH", "bad"], _] = FakeDaemon.requests(socket, 2)
        end)

      assert log =~ "the daemon refused the auth_token"
    end
  end
end
