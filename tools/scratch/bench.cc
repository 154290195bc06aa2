#include <cstdio>
#include "absl/time/clock.h"
#include "client/net/event_loop.h"
#include "client/net/udp_socket.h"
#include "client/net/utp_host.h"
using namespace bt; using namespace bt::client;
struct Sink : Transport::Observer { Transport* t; size_t got=0; bool conn=false;
  void OnTransportConnected() override {conn=true;}
  void OnTransportReadable() override { char buf[1<<16]; while (true){ auto n=t->Read(absl::MakeSpan(buf)); if(!n.ok()||*n==0) return; got+=*n; } }
  void OnTransportWritable() override {}
  void OnTransportError(absl::Status) override {} };
struct Src : Transport::Observer { Transport* t; size_t sent=0, total; std::string chunk=std::string(1<<16,'x'); bool conn=false;
  void OnTransportConnected() override {conn=true; Pump();}
  void OnTransportReadable() override {}
  void OnTransportWritable() override { Pump(); }
  void OnTransportError(absl::Status) override {}
  void Pump(){ while(sent<total){ auto n=t->Write(std::string_view(chunk).substr(0,std::min(chunk.size(), total-sent))); if(!n.ok()||*n==0) break; sent+=*n;} t->SetWantWrite(sent<total);} };
int main(int argc, char** argv){
  size_t payload = argc>1? atoi(argv[1]) : 1400;
  auto loop=*EventLoop::Create();
  auto ua=*UdpSocket::Bind(loop.get(), Endpoint::V4({127,0,0,1},0));
  auto ub=*UdpSocket::Bind(loop.get(), Endpoint::V4({127,0,0,1},0));
  protocol::utp::SocketTableOptions o; o.connection.max_payload=payload; o.connection.receive_buffer = 4<<20; o.connection.send_buffer=4<<20;
  UtpHost a(loop.get(), ua.get(), o), b(loop.get(), ub.get(), o);
  Sink sink; std::unique_ptr<Transport> in;
  b.SetAcceptHandler([&](std::unique_ptr<Transport> t){ in=std::move(t); sink.t=in.get(); (void)in->Start(&sink);});
  auto out=*a.Connect(ub->local_endpoint()); Src src; src.t=out.get(); src.total=256<<20; (void)out->Start(&src);
  auto start=absl::Now(); clock_t c0=clock();
  absl::Time next=start;
  while(sink.got<src.total && absl::Now()-start<absl::Seconds(60)) { (void)loop->RunOnce(0.01);
    if (absl::Now()>next) { next+=absl::Milliseconds(200); auto* c=a.Find(1); if(c) printf("t=%.1f got=%zu cwnd=%zu rtt=%.2fms resent=%lu timeouts=%lu fast=%lu\n", absl::ToDoubleSeconds(absl::Now()-start), sink.got, c->congestion_window(), absl::ToDoubleMilliseconds(c->smoothed_rtt()), (unsigned long)c->stats().packets_resent, (unsigned long)c->stats().timeouts,(unsigned long)c->stats().fast_retransmits);} }
  double s=absl::ToDoubleSeconds(absl::Now()-start); double cpu=double(clock()-c0)/CLOCKS_PER_SEC;
  printf("payload %zu: %zu bytes in %.2fs = %.1f MB/s, cpu %.2fs\n", payload, sink.got, s, sink.got/s/1e6, cpu);
}
